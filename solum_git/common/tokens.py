"""Secrets of git over HTTP: made here, shown once, stored only as their hash."""
import datetime
import hashlib
import secrets

from solum_git.common import exception

DEPLOY_USERNAME_PREFIX = 'deploy-'


def new_secret():
    """32 random bytes, URL-safe (it goes into a URL's user info)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret):
    """What the database and the git server keep: the secret is random, so sha256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def deploy_username(uuid):
    """The HTTP user name of a deploy token: deploy-<12 hex digits of its uuid>."""
    return DEPLOY_USERNAME_PREFIX + uuid.replace('-', '')[:12]


def expires_at(value, now=None, field='expires_at'):
    """A future time as naive UTC (None: never expires)."""
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        raise exception.InvalidInput(field, 'must be an ISO 8601 date and time')
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if value <= now:
        raise exception.InvalidInput(field, 'must be in the future')
    return value.replace(microsecond=0)
