"""Access to a repo: a member's permission and what it means to gitolite.

Like Soft Serve's ``pkg/access``: one small type. A permission's value is
gitolite's own word for it, so the API, the database and gitolite.conf say
the same thing. The gitolite names of solum users are here too.
"""
import enum


class Permission(enum.StrEnum):
    """What a member may do with a repo (the value is gitolite's access word)."""

    READ = 'R'              # clone and fetch
    WRITE = 'RW'            # push, fast-forward only
    REWIND = 'RW+'          # push anything: rewind, delete refs; owns the repo

    @property
    def meaning(self) -> str:
        return _MEANING[self]

    @property
    def tag(self) -> str:
        """The permission in a gitolite group name (``@rwp-u-alice``)."""
        return _TAG[self]


_MEANING = {Permission.READ: 'read (clone, fetch)',
            Permission.WRITE: 'read and push fast-forwards',
            Permission.REWIND: 'read and push anything (rewind, delete); manage the repo'}
_TAG = {Permission.READ: 'r', Permission.WRITE: 'rw', Permission.REWIND: 'rwp'}

# weakest first, as the API and CLI list them
PERMISSIONS = tuple(Permission)
# the repo's creator; a repo always keeps one (its members' policy target)
OWNER = Permission.REWIND
PERMISSION_RULE = 'must be one of ' + ', '.join(PERMISSIONS)

# gitolite's name of solum user ``<id>`` is ``u-<id>``: apart from solum-git's
# own admin and from gitolite's special names (@all, CREATOR, daemon, ...)
USER_PREFIX = 'u-'
ADMIN_USER = 'solum-git'


def gitolite_name(user_id: str) -> str:
    """The gitolite user name of a solum user id (its safety is render's check)."""
    return USER_PREFIX + user_id


def user_id_of(gitolite_user: str) -> str:
    """The solum user id behind a gitolite user name (others are returned as they are)."""
    if gitolite_user.startswith(USER_PREFIX):
        return gitolite_user[len(USER_PREFIX):]
    return gitolite_user
