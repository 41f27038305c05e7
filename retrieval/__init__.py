"""adactx.retrieval"""
