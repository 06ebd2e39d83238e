"""
What an operator does to a running server: reload its files, listen on
sockets systemd hands over, with TLS certificates that can be replaced.
"""
