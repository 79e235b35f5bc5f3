"""Input rules shared by the API and the services; each error names its rule."""
import fnmatch
import re

from solum_git.common import exception

REPO_NAME_RULE = '1-100 characters of A-Za-z0-9._-, starting with a letter or digit'
_REPO_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$')
# names gitolite gives a meaning of its own
RESERVED_REPO_NAMES = frozenset(['gitolite-admin', 'CREATOR', 'READERS', 'WRITERS',
                                 'NAME', 'VREF', 'EXTCMD', 'HEAD'])

_IDENT = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
IDENT_RULE = '1-64 characters of A-Za-z0-9_.-, starting with a letter or digit'

_BRANCH_GLOB = re.compile(r'^[A-Za-z0-9._/*?\[\]{},+-]{1,255}$')
BRANCH_RULE = ('a branch name or glob: 1-255 characters of A-Za-z0-9._/-+*?[]{},'
               ' with no "..", no leading "/" or "-"')

PERMISSIONS = ('R', 'RW', 'RW+')


def repo_name(value, field='name'):
    if not isinstance(value, str) or not _REPO_NAME.fullmatch(value):
        raise exception.InvalidInput(field, 'must be ' + REPO_NAME_RULE)
    if '..' in value:
        raise exception.InvalidInput(field, 'must not contain ".."')
    if value.lower().endswith('.git'):
        raise exception.InvalidInput(field, 'must not end in ".git"')
    if value in RESERVED_REPO_NAMES or value.lower() == 'gitolite-admin':
        raise exception.InvalidInput(field, '"%s" is reserved by gitolite' % value)
    return value


def ident(value, field):
    """Project and user ids: they end up in gitolite names and file names."""
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise exception.InvalidInput(field, 'must be ' + IDENT_RULE)
    return value


def branch_glob(value, field='branches'):
    if (not isinstance(value, str) or not _BRANCH_GLOB.fullmatch(value)
            or '..' in value or value.startswith(('/', '-')) or value.endswith('/')):
        raise exception.InvalidInput(field, 'must be ' + BRANCH_RULE)
    return value


def branch_matches(glob, ref):
    """``refs/heads/main`` against ``main`` or ``release/*``."""
    prefix = 'refs/heads/'
    if not ref.startswith(prefix):
        return False
    return fnmatch.fnmatchcase(ref[len(prefix):], glob)


def permission(value, field='permission'):
    if value not in PERMISSIONS:
        raise exception.InvalidInput(field, 'must be one of R, RW, RW+')
    return value


def text(value, field, max_length, required=False):
    if value is None:
        if required:
            raise exception.InvalidInput(field, 'is required')
        return None
    if not isinstance(value, str):
        raise exception.InvalidInput(field, 'must be a string')
    if required and not value.strip():
        raise exception.InvalidInput(field, 'must not be empty')
    if len(value) > max_length:
        raise exception.InvalidInput(field, 'must be at most %d characters' % max_length)
    if any(ord(c) < 32 and c not in '\t' for c in value):
        raise exception.InvalidInput(field, 'must not contain control characters')
    return value
