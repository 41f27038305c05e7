"""adactx.kernels"""
