"""adactx"""
