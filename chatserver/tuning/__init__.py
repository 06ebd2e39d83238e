"""
Adjustments to Twisted's and the C library's internals for speed and memory.
"""
