"""
The wire protocols that reach the chat core.
"""
