"""
Accounts: checkers, the scrypt password file, chat-passwd.
"""
