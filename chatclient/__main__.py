"""
C{python -m chatclient}: run the desktop client.
"""

from chatclient.app import main

main()
