"""Database rows -> gitolite.conf text and keydir files. Pure: no I/O, no clock.

gitolite names: solum-git's own admin key is ``solum-git``; every solum user id
becomes ``u-<user id>``. The prefix keeps users apart from the admin and from
gitolite's special names (``@all``, ``CREATOR``, ``daemon``, ...), and user ids
(``^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$``) contain no ``@``, so keydir never reads
a part of a file name as a host suffix.
"""
import base64
import binascii
import dataclasses
import re

ADMIN_USER = 'solum-git'
ADMIN_REPO = 'gitolite-admin'
USER_PREFIX = 'u-'
PERMISSIONS = ('RW+', 'RW', 'R')
REPOS_GROUP = '@repos'
_GROUP_TAG = {'RW+': 'rwp', 'RW': 'rw', 'R': 'r'}
GROUP_LINE = 20

_USER_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
_REPO_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$')
_KEY_ID = re.compile(r'^[A-Za-z0-9-]{1,64}$')
_KEY_LINE = re.compile(r'^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) '
                       r'[A-Za-z0-9+/]+={0,2}$')


@dataclasses.dataclass(frozen=True)
class Repo:
    name: str


@dataclasses.dataclass(frozen=True)
class Member:
    repo: str
    user_id: str
    permission: str


@dataclasses.dataclass(frozen=True)
class Key:
    uuid: str
    user_id: str
    public_key: str


@dataclasses.dataclass(frozen=True)
class Rendered:
    conf: str
    keydir: dict      # path under keydir/ -> file text
    repos: tuple      # repo names the conf serves (gitolite-admin excluded)
    skipped: tuple    # (what, why) left out because it could not be rendered safely


def gitolite_user(user_id):
    """The gitolite name of a solum user id; ValueError for an unsafe id."""
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise ValueError('user id %r is not a safe gitolite name' % (user_id,))
    return USER_PREFIX + user_id


def key_line(public_key):
    """``type base64``: what keydir holds (no comment, no options)."""
    parts = (public_key or '').split(None, 2)
    line = ' '.join(parts[:2])
    if '\n' in (public_key or '').strip() or not _KEY_LINE.fullmatch(line):
        raise ValueError('not an OpenSSH public key line')
    # gitolite fingerprints every key file; one it cannot read breaks the compile
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError('key data is not base64')
    size = int.from_bytes(blob[:4], 'big')
    if len(blob) < 4 + size + 4 or blob[4:4 + size] != parts[0].encode():
        raise ValueError('key data does not match its type')
    return line


def render(repos, members, keys, admin_public_key):
    """The whole gitolite-admin content for one stack.

    ``repos``, ``members`` and ``keys`` are the stack's rows (any order);
    only keys of users who are members of some repo here are rendered.
    """
    skipped = []
    names = set()
    for repo in repos:
        if _REPO_NAME.fullmatch(repo.name) and '..' not in repo.name \
                and repo.name != ADMIN_REPO and not repo.name.endswith('.git'):
            names.add(repo.name)
        else:
            skipped.append(('repo %s' % repo.name, 'unsafe repo name'))

    rules = {name: {} for name in names}
    for member in members:
        if member.repo not in rules:
            continue
        if member.permission not in PERMISSIONS:
            skipped.append(('member %s of %s' % (member.user_id, member.repo),
                            'unknown permission'))
            continue
        try:
            user = gitolite_user(member.user_id)
        except ValueError:
            skipped.append(('member %r of %s' % (member.user_id, member.repo),
                            'unsafe user id'))
            continue
        rules[member.repo][user] = member.permission

    # Rules go through repo groups, one per (permission, user), never on a
    # repo itself: gitolite then writes no per-repo gl-conf on each compile,
    # which makes an admin push 3-5x cheaper with thousands of repos.
    grants = {}
    for name, by_user in rules.items():
        for user, permission in by_user.items():
            grants.setdefault((PERMISSIONS.index(permission), user), []).append(name)
    lines = ['# solum-git renders this file from its database; edits here are undone',
             '', 'repo %s' % ADMIN_REPO, '    RW+     =   %s' % ADMIN_USER, '']
    # every repo is in @repos: a repo needs a rule to exist; the admin may read
    lines += _group(REPOS_GROUP, sorted(names))
    lines += ['repo %s' % REPOS_GROUP, '    %-7s =   %s' % ('R', ADMIN_USER), '']
    for (rank, user), repo_names in sorted(grants.items()):
        permission = PERMISSIONS[rank]
        group = '@%s-%s' % (_GROUP_TAG[permission], user)
        lines += _group(group, sorted(repo_names))
        lines += ['repo %s' % group, '    %-7s =   %s' % (permission, user), '']
    conf = '\n'.join(lines)

    with_access = {user for by_user in rules.values() for user in by_user}
    keydir = {'%s.pub' % ADMIN_USER: key_line(admin_public_key) + '\n'}
    for key in keys:
        try:
            user = gitolite_user(key.user_id)
        except ValueError:
            continue
        if user not in with_access:
            continue
        if not _KEY_ID.fullmatch(key.uuid or ''):
            skipped.append(('key %s' % key.uuid, 'unsafe key id'))
            continue
        try:
            line = key_line(key.public_key)
        except ValueError:
            skipped.append(('key %s' % key.uuid, 'not an OpenSSH public key'))
            continue
        # one directory per key: gitolite takes the user from the file name only
        keydir['%s/%s/%s.pub' % (user, key.uuid, user)] = line + '\n'
    return Rendered(conf=conf, keydir=keydir, repos=tuple(sorted(names)),
                    skipped=tuple(skipped))


def _group(name, members, per_line=GROUP_LINE):
    """``@name = a b c`` lines (gitolite adds up repeated definitions)."""
    return ['%s = %s' % (name, ' '.join(members[i:i + per_line]))
            for i in range(0, len(members), per_line)] + ([''] if members else [])


def conf_repos(conf_text):
    """Repo names a gitolite.conf we rendered serves (gitolite-admin excluded)."""
    names = set()
    prefix = REPOS_GROUP + ' = '
    for line in (conf_text or '').splitlines():
        if line.startswith(prefix):
            names.update(line[len(prefix):].split())
        else:
            parts = line.split()
            # the older, one-block-per-repo form
            if len(parts) >= 2 and parts[0] == 'repo' and not parts[1].startswith('@'):
                names.update(p for p in parts[1:] if p != ADMIN_REPO)
    return names
