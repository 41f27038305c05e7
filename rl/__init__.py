"""adactx.rl"""
