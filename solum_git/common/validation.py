"""Input rules shared by the API and the services; each error names its rule."""
import re

from solum_git.common import access
from solum_git.common import exception
from solum_git.server import names

# the repo-name and branch rules are the git servers' too: defined in names
REPO_NAME_RULE = names.REPO_NAME_RULE
RESERVED_REPO_NAMES = names.RESERVED_REPO_NAMES

_IDENT = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
IDENT_RULE = '1-64 characters of A-Za-z0-9_.-, starting with a letter or digit'

# -- git ref names ---------------------------------------------------------------
_BRANCH_CHARSET = names.BRANCH_CHARSET
BRANCH_CHARS_RULE = names.BRANCH_CHARS_RULE
# fnmatch's wildcards; a bracket holds branch characters only
_GLOB_WILDCARD = re.compile(r'\[!?\]?[%s]*\]|[*?]' % _BRANCH_CHARSET)
refname_error = names.refname_error
branch_error = names.branch_error


def branch_name(value, field='default_branch', what='a git branch name'):
    """A branch solum-git hands to git and gitolite (a repo's default branch)."""
    why = names.branch_name_error(value, what)
    if why:
        raise exception.InvalidInput(field, why)
    return value


def branch_glob(value, field='branches'):
    """A trigger's branches: a name or an fnmatch glob (*, ?, [...]).

    With each wildcard taken as a letter it must be a branch name: a glob no
    branch can match is refused.
    """
    why = branch_glob_error(value)
    if why:
        raise exception.InvalidInput(field, why)
    return value


def branch_glob_error(value):
    """Why ``value`` is not a branch name or glob (branch_glob's rule), or None."""
    what = 'a branch name or a glob (*, ?, [...])'
    if not isinstance(value, str) or len(value) > 255:
        return 'must be %s of %s' % (what, BRANCH_CHARS_RULE)
    return names.branch_name_error(_GLOB_WILDCARD.sub('x', value), what)


# the rules' character sets as regexes, for documents that describe them (OpenAPI);
# the functions above and below remain the rules
REPO_NAME_PATTERN = names.REPO_NAME_PATTERN
IDENT_PATTERN = _IDENT.pattern
BRANCH_PATTERN = names.BRANCH_PATTERN
BRANCH_GLOB_PATTERN = r'^[*?\[\]!%s]{1,255}$' % _BRANCH_CHARSET


def repo_name(value, field='name'):
    why = names.repo_name_error(value)
    if why:
        raise exception.InvalidInput(field, why)
    return value


def ident(value, field):
    """Project and user ids: they end up in gitolite names and file names."""
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise exception.InvalidInput(field, 'must be ' + IDENT_RULE)
    return value


# triggers' and protected branches' globs match as the git servers match them
branch_matches = names.branch_matches


def permission(value, field='permission'):
    if value not in access.PERMISSIONS:
        raise exception.InvalidInput(field, access.PERMISSION_RULE)
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
