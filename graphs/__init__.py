"""adactx.graphs"""
