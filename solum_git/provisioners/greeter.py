"""A new git server's port while its sshd is not up yet: ssh says why.

Without it a client that pushes to a stack still being built (right after
``repo create --no-wait``) gets only "Connection refused". The greeter speaks
just enough SSH (RFC 4253): its version line, then a DISCONNECT packet, which
OpenSSH shows as "Received disconnect from HOST port PORT:7: server is
starting, retry in a few seconds"; git then says it could not read from the
remote. It is closed right before the real sshd binds the port.
"""
import logging
import socket
import struct
import threading
from typing import Optional

LOG = logging.getLogger(__name__)

MESSAGE = 'server is starting, retry in a few seconds'
SSH_MSG_DISCONNECT = 1
SSH_DISCONNECT_SERVICE_NOT_AVAILABLE = 7  # RFC 4250 4.2.2
VERSION = b'SSH-2.0-solum-git-starting\r\n'


def disconnect_packet(message: str, reason: int = SSH_DISCONNECT_SERVICE_NOT_AVAILABLE
                      ) -> bytes:
    """An SSH binary packet before key exchange: no cipher (blocks of 8), no MAC."""
    text = message.encode()
    payload = (bytes([SSH_MSG_DISCONNECT]) + struct.pack('>I', reason)
               + struct.pack('>I', len(text)) + text + struct.pack('>I', 0))
    padding = 8 - (5 + len(payload)) % 8
    if padding < 4:
        padding += 8
    return struct.pack('>IB', 1 + len(payload) + padding, padding) + payload + bytes(padding)


class Greeter:
    """Listens on host:port until ``close()``; every connection is told ``message``."""

    def __init__(self, host: str, port: int, message: str = MESSAGE) -> None:
        self.host, self.port = host, port
        self.answer = VERSION + disconnect_packet(message)
        self._sock: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._closing = threading.Event()

    def open(self) -> bool:
        """False if the port is taken (its sshd already runs, or something else)."""
        family = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(16)
        except OSError:
            sock.close()
            return False
        sock.settimeout(0.2)
        self._sock = sock
        self._closing.clear()
        thread = threading.Thread(target=self._serve, args=(sock,), daemon=True,
                                  name='solum-git-greeter-%d' % self.port)
        self._thread = thread
        thread.start()
        return True

    def close(self) -> None:
        """The port is free when this returns (for the sshd about to bind it)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            self._closing.set()
            if self._thread is not None:
                self._thread.join(2)
            sock.close()

    def __enter__(self) -> 'Greeter':
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self, sock):
        while not self._closing.is_set():
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._greet, args=(conn,), daemon=True).start()

    def _greet(self, conn):
        with conn:
            try:
                conn.settimeout(2)
                conn.sendall(self.answer)
                conn.shutdown(socket.SHUT_WR)
                # the client's own version line and KEXINIT: read so that closing
                # does not reset the connection before it has read ours
                while conn.recv(4096):
                    pass
            except OSError as e:
                LOG.debug('greeter on port %d: %s', self.port, e)
