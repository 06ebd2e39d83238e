"""
What the chat keeps of rooms' past: the store interface and its implementations.
"""
