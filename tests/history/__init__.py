"""
Tests of the history stores.
"""
