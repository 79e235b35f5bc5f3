"""A project's limits: its own row's where an admin set them, else [quota]'s.

No oslo.config import here: the CLI uses the names too.
"""
from typing import Any, Optional

from solum_git.server import policy

# the quota names, in the order the API, the CLI and [quota] show them
NAMES = ('repos', 'keys_per_user', 'triggers_per_repo', 'repo_size_mb')
UNLIMITED = -1


def effective(conf: Any, row: Optional[Any]) -> dict[str, int]:
    """{quota name: limit} (-1: no limit) for a project's Quota row (or None)."""
    out = {}
    for name in NAMES:
        value = getattr(row, name, None) if row is not None else None
        out[name] = getattr(conf.quota, name) if value is None else value
    return out


def repo_size_bytes(limits: dict[str, int]) -> int:
    mb = limits['repo_size_mb']
    return UNLIMITED if mb < 0 else mb * policy.MIB


def exceeded(limits: dict[str, int], name: str, used: int) -> bool:
    """True when one more would pass the limit (``used``: how many there are now)."""
    limit = limits[name]
    return limit >= 0 and used >= limit
