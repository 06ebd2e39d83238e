"""
Limits every door shares: flow control, per-address limits, admission,
the numbers users type.
"""
