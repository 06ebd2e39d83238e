"""
Benchmarks of the chat server against two baseline designs: see
C{bench/README.md}.  Not part of the test suite.
"""
