"""
The server console window: its model (no Tk), window and service.
"""
