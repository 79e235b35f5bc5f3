"""known_hosts lines: the one builder for the engine, the provisioners and the CLI.

The host field is always ours (``host``, or ``[host]:port`` off port 22, as
OpenSSH looks it up), whatever name the key's own line carries.
"""
from collections.abc import Iterable

KEY_TYPE_PREFIXES = ('ssh-', 'ecdsa-', 'sk-')


def host_field(host: str, port: int | None) -> str:
    """The name ssh looks ``host:port`` up by."""
    port = int(port or 22)
    return host if port == 22 else '[%s]:%d' % (host, port)


def key_part(line: str | None) -> str | None:
    """'ssh-ed25519 AAAA' of a public key or known_hosts line (host, comment dropped)."""
    fields = (line or '').split()
    for i, field in enumerate(fields[:-1]):
        if field.startswith(KEY_TYPE_PREFIXES):
            return '%s %s' % (field, fields[i + 1])
    return None


def line(host: str, port: int | None, key_line: str) -> str:
    """One known_hosts line for ``host:port``; ValueError if ``key_line`` has no key."""
    key = key_part(key_line)
    if key is None:
        raise ValueError('no public key in %r' % (key_line or '')[:80])
    return '%s %s' % (host_field(host, port), key)


def lines(host: str, port: int | None, key_lines: Iterable[str]) -> list[str]:
    """known_hosts lines for ``host:port`` from the lines that carry a key."""
    return [line(host, port, k) for k in key_lines or () if key_part(k) is not None]
