"""
TLS connections that cost less: Twisted's memory-BIO TLS without its
per-connection write aggregator, sealing each write at once in small
records.

Since Twisted 22.8 L{TLSMemoryBIOFactory}'s protocol is
C{BufferingTLSTransport}, which holds every write back until the reactor's
next turn with a C{callLater(0)} per connection, so that many small writes
make one TLS record.  Our doors already write once per connection per turn
(the fan-out's outbox), so for us that is one delayed call made, scheduled
and run per recipient of every turn, and two more objects kept for every
idle connection.  L{LeanTLSFactory} uses Twisted's plain
L{TLSMemoryBIOProtocol} instead, which encrypts each write at once.  The
service wraps every TLS listener's gate in one
(L{chatserver.service.ChatService.listen}), over a lean TCP port whose
connections keep their state in slots and send ciphertext straight to the
socket when nothing waits (L{chatserver.tuning.leantcp.LeanServer.write}).

OpenSSL keeps a read and a write buffer of about 17 KB each per connection
unless C{SSL_MODE_RELEASE_BUFFERS} is set on the context; Twisted's
L{CertificateOptions}, which the listeners' certificates are, sets it.
"""

from __future__ import annotations

from OpenSSL import SSL
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol
from twisted.python.failure import Failure

# The most plaintext encrypted into one TLS record, and so the most
# ciphertext the connection's outgoing memory BIO ever holds (see
# LeanTLSProtocol._write).
RECORD = 2048


class LeanTLSProtocol(TLSMemoryBIOProtocol):
    """
    Twisted's memory-BIO TLS, encrypting each write at once in records of
    at most L{RECORD} bytes of plaintext, and sending the ciphertext of one
    write in one C{transport.write}.

    pyOpenSSL's memory BIOs are OpenSSL's C{BIO_s_mem}, whose buffer grows
    to the most it ever held and never shrinks.  Twisted encrypts up to 16
    KB at a time and then reads the BIO out, so every connection that was
    once written 16 KB in one go (the user list at login, with a few
    thousand users online) keeps a buffer of about 22 KB for the rest of
    its life.  Records of 2 KB keep that buffer under 3 KB (an idle TLS
    connection at 10,000 users: 44.9 KB on Twisted's TLS, 27.8 KB on this;
    C{bench/NOTES.md}); the ciphertext is read out after each record and
    joined, so a write still makes one send.
    """

    def _write(self, data: bytes) -> None:
        if self._lostTLSConnection:
            return
        connection = self._tlsConnection
        sealed: list[bytes] = []
        done = 0
        failure: Failure | None = None
        while done < len(data):
            try:
                done += connection.send(data[done : done + RECORD])
            except SSL.WantReadError:
                # The handshake is not over: keep the rest for after it.
                self._bufferedWrite(data[done:])
                break
            except SSL.Error:
                failure = Failure()
                break
            _read_out(connection, sealed)
        if sealed and self.transport is not None:
            self.transport.write(sealed[0] if len(sealed) == 1 else b"".join(sealed))
        if failure is not None:
            # As Twisted's: the error goes to the application protocol's
            # connectionLost.
            self._tlsShutdownFinished(failure)


# What one read of the outgoing BIO asks for: a record of RECORD bytes of
# plaintext and its overhead fit.  (pyOpenSSL allocates a buffer
# of the size asked for, for each read; Twisted asks for 32 KB.)
_READ_OUT = 2 * RECORD


def _read_out(connection: SSL.Connection, into: list[bytes]) -> None:
    """
    Append everything the outgoing memory BIO of C{connection} holds to
    C{into}.
    """
    while True:
        try:
            piece = connection.bio_read(_READ_OUT)
        except SSL.WantReadError:
            return
        into.append(piece)
        if len(piece) < _READ_OUT:
            return


class LeanTLSFactory(TLSMemoryBIOFactory):
    """
    A server-side L{TLSMemoryBIOFactory} whose connections encrypt each
    write at once (L{LeanTLSProtocol}), without Twisted's aggregation of
    small writes into the next turn.
    """

    protocol = LeanTLSProtocol
