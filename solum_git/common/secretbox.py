"""Trigger secrets at rest: Fernet tokens under the keys of [secrets] (MultiFernet).

The first key encrypts, every key decrypts: a rotation puts the new key
first, re-encrypts (``rotate``), then the old key can go.
"""
from typing import Dict, List, Mapping

from cryptography import fernet
from oslo_config import cfg


class NoKey(Exception):
    """This service has no [secrets] key: it can neither keep nor read secrets."""


class Undecryptable(Exception):
    """A token none of the configured keys opens (a key dropped too early)."""


def new_key() -> str:
    return fernet.Fernet.generate_key().decode('ascii')


def _keys(conf: cfg.ConfigOpts) -> List[str]:
    opts = conf.secrets
    if opts.key_file:
        with open(opts.key_file) as f:
            return [line.strip() for line in f
                    if line.strip() and not line.lstrip().startswith('#')]
    return [k.strip() for k in opts.fernet_keys if k.strip()]


class SecretBox:
    def __init__(self, conf: cfg.ConfigOpts):
        keys = _keys(conf)
        if not keys:
            raise NoKey('this service has no key for secrets ([secrets] fernet_keys or key_file)')
        try:
            self._fernet = fernet.MultiFernet([fernet.Fernet(k.encode('ascii'))
                                               for k in keys])
        except (ValueError, UnicodeEncodeError):
            raise NoKey('[secrets] fernet_keys: each must be a Fernet key (urlsafe base64 '
                        'of 32 bytes)')

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode('utf-8')).decode('ascii')

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode('ascii')).decode('utf-8')
        except (fernet.InvalidToken, UnicodeError, AttributeError):
            raise Undecryptable('no [secrets] key opens it (was its key removed '
                                'before `solum-git-manage secrets rotate`?)')

    def rotate(self, token: str) -> str:
        """The same value under the first key."""
        try:
            return self._fernet.rotate(token.encode('ascii')).decode('ascii')
        except (fernet.InvalidToken, AttributeError):
            raise Undecryptable('no [secrets] key opens it')


def open_all(conf: cfg.ConfigOpts, tokens: Mapping[str, str]) -> Dict[str, str]:
    """{name: plain value} of a trigger's stored secrets; raises NoKey, Undecryptable."""
    if not tokens:
        return {}
    box = SecretBox(conf)
    return {name: box.open(token) for name, token in tokens.items()}
