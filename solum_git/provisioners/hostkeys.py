"""SSH host keys made by solum-git, and asking a server which key it answers with.

A remote git server's host key is generated here and handed to it at boot, so
the key clients pin is known before the server exists (no trust on first use).
"""
import base64
import subprocess
from typing import Optional, Tuple

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization

from solum_git.common import known_hosts


def generate() -> Tuple[str, str]:
    """(private key in OpenSSH format, public key line 'ssh-ed25519 AAAA...')."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, public


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def scan(host: str, port: int, timeout: float = 5) -> Optional[str]:
    """The ed25519 key the sshd at host:port answers with, or None if it does not answer."""
    try:
        proc = subprocess.run(['ssh-keyscan', '-T', str(timeout), '-t', 'ed25519',
                               '-p', str(int(port)), host],
                              capture_output=True, text=True, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        return None
    for line in proc.stdout.splitlines():
        if line and not line.startswith('#'):
            return known_hosts.key_part(line)
    return None


def public_of(private_key: str) -> str:
    """'ssh-ed25519 AAAA...' (or another type) of an OpenSSH private key."""
    key = serialization.load_ssh_private_key(private_key.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()
