"""
What C{--metrics} reports: the chat's figures in Prometheus' text format,
and whether the server accepts users.
"""
