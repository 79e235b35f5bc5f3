"""A stack's private keys at rest: Fernet tokens in the stacks table (common/secretbox.py).

A database dump alone gives no key to a git server. Whatever writes one of
``COLUMNS`` seals it (``sealed``); the engine opens them into its in-memory
copy of the row (``snapshot``), the only place a provisioner or an SSH
client takes them from.
"""
import types
from typing import Any, Dict, Optional

from solum_git.common import secretbox
from solum_git.db import models

# the admin's SSH key, the server's SSH host key, its HTTPS CA and certificate keys
COLUMNS = ('admin_private_key', 'ssh_host_private_key', 'http_ca_key', 'http_tls_key')


def sealed(box: secretbox.SecretBox, values: Dict[str, Any]) -> Dict[str, Any]:
    """``values`` to write to a stack row, its private keys as tokens."""
    return {name: box.seal(value) if name in COLUMNS and value else value
            for name, value in values.items()}


def snapshot(box: Optional[secretbox.SecretBox], row: Any) -> types.SimpleNamespace:
    """A detached copy of a stack row, its private keys opened (Undecryptable if
    no key of [secrets] opens one); with no ``box``, without its private keys."""
    plain = {c.name: getattr(row, c.name) for c in models.Stack.__table__.columns}
    for name in COLUMNS:
        if plain[name]:
            plain[name] = box.open(plain[name]) if box is not None else None
    return types.SimpleNamespace(**plain)
