"""The git servers' signed requests: HMAC-SHA256 with the stack's hook secret.

The hook (solum_git/hook/main.py) signs ``v1\\n<stack>\\n<timestamp>\\n<nonce>\\n``
followed by the exact body; the stack's ``hook_secret`` is the only credential.
"""
import hashlib
import hmac
import re
import time
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import exception
from solum_git.db import models

SIGNATURE_VERSION = 'v1'
HEADERS = ('X-Solum-Git-Stack', 'X-Solum-Git-Timestamp', 'X-Solum-Git-Nonce',
           'X-Solum-Git-Signature')
_NONCE = re.compile(r'^[0-9a-f]{16,64}$')


def signed_message(stack_uuid: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    return ('%s\n%s\n%s\n%s\n' % (SIGNATURE_VERSION, stack_uuid, timestamp,
                                  nonce)).encode() + body


def signature(secret: str, stack_uuid: str, timestamp: int, nonce: str,
              body: bytes) -> str:
    return '%s=%s' % (SIGNATURE_VERSION, hmac.new(
        secret.encode(), signed_message(stack_uuid, timestamp, nonce, body),
        hashlib.sha256).hexdigest())


def unauthenticated(rule: str) -> exception.NotAuthenticated:
    return exception.NotAuthenticated('%s (signed git server request)' % rule)


def parse_headers(headers: Mapping[str, str]) -> tuple[str, int, str, str]:
    """(stack uuid, timestamp, nonce, signature); 401 naming a missing or bad header."""
    values = {}
    for name in HEADERS:
        value = headers.get(name)
        if not value:
            raise unauthenticated('%s: header required' % name)
        values[name] = value
    try:
        timestamp = int(values['X-Solum-Git-Timestamp'])
    except ValueError:
        raise unauthenticated('X-Solum-Git-Timestamp: must be a Unix time in seconds')
    if not _NONCE.fullmatch(values['X-Solum-Git-Nonce']):
        raise unauthenticated('X-Solum-Git-Nonce: must be 16-64 lowercase hex digits')
    return (values['X-Solum-Git-Stack'], timestamp, values['X-Solum-Git-Nonce'],
            values['X-Solum-Git-Signature'])


def check_time(timestamp: int, max_skew: int) -> None:
    if abs(time.time() - timestamp) > max_skew:
        raise unauthenticated('X-Solum-Git-Timestamp: more than %d s away from the '
                              'API\'s clock (stale or replayed)' % max_skew)


def verify(session: orm.Session, stack_uuid: str, timestamp: int, nonce: str, sig: str,
           body: bytes) -> models.Stack:
    """The stack whose secret signed this; 401 otherwise."""
    stack = session.execute(sa.select(models.Stack).where(
        models.Stack.uuid == stack_uuid)).scalar_one_or_none()
    # an unknown stack and a wrong secret look the same to the caller
    expected = signature(stack.hook_secret if stack else 'x' * 64, stack_uuid,
                         timestamp, nonce, body)
    if stack is None or not hmac.compare_digest(expected.encode(), sig.encode()):
        raise unauthenticated('X-Solum-Git-Signature: does not match the body and the '
                              'stack\'s secret')
    return stack
