"""
What the chat keeps besides lines: the read markers of accounts.
"""
