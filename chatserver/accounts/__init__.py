"""
Accounts that users register themselves (C{--accounts STORE}): where they
are kept (L{chatserver.accounts.store}), the rules for registering,
changing and giving them up (L{chatserver.accounts.registry}), and the
twisted.cred checker every door logs in through
(L{chatserver.accounts.checker}).
"""
