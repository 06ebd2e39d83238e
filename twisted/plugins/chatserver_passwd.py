"""
The C{passwd} checker for C{--auth}: C{twistd chat --auth passwd:PATH}.
"""

from chatserver.auth.passwords import PasswordFileCheckerFactory

passwordFile = PasswordFileCheckerFactory()
