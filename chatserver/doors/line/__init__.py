"""
The line door: raw lines for nc, scripts and the Tk client, and the same
lines spoken over telnet for telnet clients.
"""
