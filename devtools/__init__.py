"""
Helpers for the scripts in C{scripts/} and C{bench/}: a private virtual
display, and scripted chat users.  Not installed with the package.
"""
