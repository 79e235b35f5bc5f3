"""The repo-name and branch rules: defined here once, for the API and the servers.

Standard library only: the git servers' programs check every name again
before it touches their disk, and ``solum_git.common.validation`` turns these
answers into the API's 4xx errors. Each ``*_error`` function returns why a
value is refused, or None.
"""
import fnmatch
import re

REPO_NAME_RULE = '1-100 characters of A-Za-z0-9._-, starting with a letter or digit'
REPO_NAME_PATTERN = r'^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'
_REPO_NAME = re.compile(REPO_NAME_PATTERN)
# names gitolite gives a meaning of its own
RESERVED_REPO_NAMES = frozenset(['gitolite-admin', 'CREATOR', 'READERS', 'WRITERS',
                                 'NAME', 'VREF', 'EXTCMD', 'HEAD'])
_GIT_TRACE_SUFFIX = re.compile(r'\.git[0-9]$', re.IGNORECASE)

# -- git ref names -------------------------------------------------------------
# git's own rules (refs.c, check_refname_format; `git check-ref-format`)
_REF_BAD_CHARS = frozenset([chr(c) for c in range(32)] + ['\x7f'] + list(' ~^:?*[\\'))
# what both git and gitolite's command line (REMOTE_COMMAND_PATT) carry: branch
# names travel to the server as arguments of solum-sync
BRANCH_CHARSET = 'A-Za-z0-9._/+@,%=-'
_BRANCH_CHARS = re.compile('[%s]{1,255}' % BRANCH_CHARSET)
BRANCH_CHARS_RULE = '1-255 characters of A-Za-z0-9 and ._/+@,%=-'
BRANCH_PATTERN = '^[%s]{1,255}$' % BRANCH_CHARSET


def repo_name_error(value):
    """Why ``value`` is not a repo name solum-git serves, or None."""
    if not isinstance(value, str) or not _REPO_NAME.fullmatch(value):
        return 'must be ' + REPO_NAME_RULE
    if '..' in value:
        return 'must not contain ".."'
    if value.lower().endswith('.git'):
        return 'must not end in ".git"'
    if _GIT_TRACE_SUFFIX.search(value):
        # gitolite-shell reads "x.git1" as repo "x" with trace level 1
        return 'must not end in ".git" and a digit'
    if value in RESERVED_REPO_NAMES or value.lower() == 'gitolite-admin':
        return '"%s" is reserved by gitolite' % value
    return None


def refname_error(refname):
    """Why git refuses ``refname`` (a full name: ``refs/heads/x``), or None."""
    if refname == '@':
        return 'not "@"'
    if any(c in _REF_BAD_CHARS for c in refname):
        return 'no control characters, space or any of ~^:?*[\\'
    if '..' in refname:
        return 'no ".."'
    if '@{' in refname:
        return 'no "@{"'
    parts = refname.split('/')
    if any(not part for part in parts):
        return 'no "//", no leading or trailing "/"'
    if any(part.startswith('.') for part in parts):
        return 'no part starting with "."'
    if any(part.endswith('.lock') for part in parts):
        return 'no part ending in ".lock"'
    if refname.endswith('.'):
        return 'no trailing "."'
    if len(parts) < 2:
        return 'at least two parts (refs/...)'
    return None


def branch_error(name):
    """Why ``git check-ref-format --branch`` refuses ``name``, or None."""
    if name.startswith('-'):
        return 'no leading "-"'
    if name == 'HEAD':
        return 'not "HEAD"'
    return refname_error('refs/heads/' + name)


def branch_name_error(value, what='a git branch name'):
    """Why ``value`` is not a branch solum-git hands to git and gitolite, or None."""
    if not isinstance(value, str) or not _BRANCH_CHARS.fullmatch(value):
        return 'must be %s of %s' % (what, BRANCH_CHARS_RULE)
    # git allows these branches, but its revision parser reads "@" as HEAD and
    # "refs/..." as a full ref name
    if value == '@' or value.startswith('refs/'):
        why = 'not "@" nor starting with "refs/"'
    else:
        why = branch_error(value)
    if why:
        return 'must be %s git accepts: %s' % (what, why)
    return None


# -- renamed repos -------------------------------------------------------------
# The engine renders this file into gitolite-admin (checked out in
# ``$HOME/.gitolite``): one line per old name of a renamed repo, "OLD NEW why",
# ``why`` the whole refusal a client sees. gitolite's ACCESS_1 trigger
# solum-moved (SSH) and the HTTP front (httpfront/main.py, which reads the
# line the same way) refuse OLD with it to the users who may read NEW.
MOVED_FILE = 'solum/moved'


def moved_message(old, new, urls=()):
    """The refusal of ``old``: the new name and where it is now."""
    where = ' or '.join(u for u in urls if u)
    return ('repo %s was renamed to %s; use its new URL%s (git remote set-url '
            '<remote> <new URL>)' % (old, new, ': ' + where if where else ''))


def moved_lines(moved):
    """The file's text for {old: (new, message)}."""
    return ''.join('%s %s %s\n' % (old, new, ' '.join(why.split()))
                   for old, (new, why) in sorted(moved.items()))


def parse_moved(text):
    """{old: (new, message)} of the file's text; lines that break the rules are skipped."""
    moved = {}
    for line in text.splitlines():
        parts = line.split(' ', 2)
        if len(parts) == 3 and not repo_name_error(parts[0]) \
                and not repo_name_error(parts[1]):
            moved[parts[0]] = (parts[1], parts[2])
    return moved


def branch_matches(glob, ref):
    """``refs/heads/main`` against ``main`` or ``release/*`` (fnmatch: ``*`` spans "/")."""
    prefix = 'refs/heads/'
    if not ref.startswith(prefix):
        return False
    return fnmatch.fnmatchcase(ref[len(prefix):], glob)
