"""Database rows -> gitolite.conf text and keydir files. Pure: no I/O, no clock.

gitolite names: solum-git's own admin key is ``solum-git``; every solum user id
becomes ``u-<user id>``. The prefix keeps users apart from the admin and from
gitolite's special names (``@all``, ``CREATOR``, ``daemon``, ...), and user ids
(``^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$``) contain no ``@``, so keydir never reads
a part of a file name as a host suffix.

Credentials of one repo are gitolite users of their own: a deploy key is
``dk-<uuid>`` (its key in keydir), a deploy token ``dt-<uuid>``; either has
R or RW on exactly its repo. Tokens for git over HTTP go to ``http/tokens``
(TOKENS_FILE), which the server's HTTP front reads: one line per token with
its hash, HTTP user name (a deploy token's username, a user's id), gitolite
user, expiry and repo scope (see solum_git/httpfront/main.py).
"""
import base64
import binascii
import dataclasses
import re
from typing import Any, Iterable, Set

from solum_git.common import access
from solum_git.common import exception
from solum_git.common import validation
from solum_git.server import policy

ADMIN_USER = access.ADMIN_USER
ADMIN_REPO = 'gitolite-admin'
REPOS_GROUP = '@repos'
# deploy keys and tokens may read, or also push; never rewind
DEPLOY_PERMISSIONS = (access.Permission.READ, access.Permission.WRITE)
DEPLOY_KEY_PREFIX = 'dk-'
DEPLOY_TOKEN_PREFIX = 'dt-'
TOKENS_FILE = 'http/tokens'
TLS_CERT_FILE = 'http/tls.crt'
TLS_KEY_FILE = 'http/tls.key'
_HASH = re.compile(r'^[0-9a-f]{64}$')
_LOGIN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
# grants are written strongest first
_ORDER = tuple(reversed(access.PERMISSIONS))
GROUP_LINE = 20

_USER_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
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
class DeployKey:
    uuid: str
    repo: str
    permission: str
    public_key: str


@dataclasses.dataclass(frozen=True)
class DeployToken:
    uuid: str
    repo: str
    permission: str
    username: str
    token_hash: str
    expires: int      # epoch seconds; 0: never


@dataclasses.dataclass(frozen=True)
class Token:
    """A personal access token: its user's own access; the user id is its login."""
    uuid: str
    user_id: str
    token_hash: str
    expires: int


@dataclasses.dataclass(frozen=True)
class ProtectedBranch:
    repo: str
    pattern: str
    push: str
    allow_force_push: bool
    allow_delete: bool


@dataclasses.dataclass(frozen=True)
class Rendered:
    conf: str
    keydir: dict      # path under keydir/ -> file text
    repos: tuple      # repo names the conf serves (gitolite-admin excluded)
    skipped: tuple    # (what, why) left out because it could not be rendered safely
    files: dict = dataclasses.field(default_factory=dict)  # other admin repo files


def gitolite_user(user_id: str) -> str:
    """The gitolite name of a solum user id; ValueError for an unsafe id."""
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise ValueError('user id %r is not a safe gitolite name' % (user_id,))
    return access.gitolite_name(user_id)


def key_line(public_key: str) -> str:
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


def safe_repo_name(name: str) -> bool:
    """The API's repo name rule: rows from before a rule was added may break it."""
    try:
        validation.repo_name(name)
    except exception.InvalidInput:
        return False
    return True


def render(repos: Iterable[Any], members: Iterable[Any], keys: Iterable[Any],
           admin_public_key: str, deploy_keys: Iterable[Any] = (),
           deploy_tokens: Iterable[Any] = (), tokens: Iterable[Any] = (),
           tls: Any = None, protected: Iterable[Any] = (),
           repo_size_bytes: int = -1) -> Rendered:
    """The whole gitolite-admin content for one stack.

    ``repos``, ``members`` and ``keys`` are the stack's rows (any order);
    only keys and personal tokens of users who are members of some repo here
    are rendered; deploy keys and tokens only for a repo served here.
    ``tls``: (certificate, key) PEM of the server's HTTPS front, or None.
    ``protected`` (ProtectedBranch rows) and ``repo_size_bytes`` (-1: no
    limit) become the pre-receive check's files (solum_git/server/policy.py).
    """
    skipped = []
    names = set()
    for repo in repos:
        if safe_repo_name(repo.name):
            names.add(repo.name)
        else:
            skipped.append(('repo %s' % repo.name, 'unsafe repo name'))

    rules: dict[str, dict[str, str]] = {name: {} for name in names}
    for member in members:
        if member.repo not in rules:
            continue
        if member.permission not in access.PERMISSIONS:
            skipped.append(('member %s of %s' % (member.user_id, member.repo),
                            'unknown permission'))
            continue
        try:
            user = gitolite_user(member.user_id)
        except ValueError:
            skipped.append(('member %r of %s' % (member.user_id, member.repo),
                            'unsafe user id'))
            continue
        rules[member.repo][user] = access.Permission(member.permission)
    users = {user for by_user in rules.values() for user in by_user}

    deploy_lines = {}
    for cred, prefix in ([(k, DEPLOY_KEY_PREFIX) for k in deploy_keys]
                         + [(t, DEPLOY_TOKEN_PREFIX) for t in deploy_tokens]):
        what = '%s %s' % ('deploy key' if prefix == DEPLOY_KEY_PREFIX
                          else 'deploy token', cred.uuid)
        if cred.repo not in rules:
            continue
        if not _KEY_ID.fullmatch(cred.uuid or ''):
            skipped.append((what, 'unsafe id'))
            continue
        if cred.permission not in DEPLOY_PERMISSIONS:
            skipped.append((what, 'unknown permission'))
            continue
        user = prefix + cred.uuid
        if prefix == DEPLOY_KEY_PREFIX:
            try:
                line = key_line(cred.public_key)
            except ValueError:
                skipped.append((what, 'not an OpenSSH public key'))
                continue
            deploy_lines['deploy-keys/%s/%s.pub' % (cred.uuid, user)] = line + '\n'
        rules[cred.repo][user] = access.Permission(cred.permission)

    # Rules go through repo groups, one per (permission, user), never on a
    # repo itself: gitolite then writes no per-repo gl-conf on each compile,
    # which makes an admin push 3-5x cheaper with thousands of repos.
    grants: dict[Any, list[str]] = {}
    for name, by_user in rules.items():
        for user, permission in by_user.items():
            grants.setdefault((_ORDER.index(permission), user), []).append(name)
    lines = ['# solum-git renders this file from its database; edits here are undone',
             '', 'repo %s' % ADMIN_REPO,
             '    %-7s =   %s' % (access.Permission.REWIND, ADMIN_USER), '']
    # every repo is in @repos: a repo needs a rule to exist; the admin may read
    lines += _group(REPOS_GROUP, sorted(names))
    lines += ['repo %s' % REPOS_GROUP,
              '    %-7s =   %s' % (access.Permission.READ, ADMIN_USER), '']
    for (rank, user), repo_names in sorted(grants.items()):
        permission = _ORDER[rank]
        group = '@%s-%s' % (permission.tag, user)
        lines += _group(group, sorted(repo_names))
        lines += ['repo %s' % group, '    %-7s =   %s' % (permission, user), '']
    conf = '\n'.join(lines)

    with_access = users
    keydir = {'%s.pub' % ADMIN_USER: key_line(admin_public_key) + '\n'}
    keydir.update(deploy_lines)
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
    token_lines = _token_lines(deploy_tokens, tokens, names, with_access, skipped)
    files = {TOKENS_FILE: ''.join(sorted(token_lines))}
    if tls:
        files[TLS_CERT_FILE], files[TLS_KEY_FILE] = tls
    files.update(_policy_files(protected, rules, skipped, repo_size_bytes))
    return Rendered(conf=conf, keydir=keydir, repos=tuple(sorted(names)),
                    skipped=tuple(skipped), files=files)


def _policy_files(protected, rules, skipped, repo_size_bytes):
    """One file per served repo that has protected branches; the quota's file."""
    by_repo: dict[str, list] = {}
    for rule in protected:
        if rule.repo not in rules:
            continue
        if (rule.push not in policy.PUSH_CHOICES
                or validation.branch_glob_error(rule.pattern)):
            # fail closed: the rule stays, as strict as it can be
            skipped.append(('protected branch %s of %s' % (rule.pattern, rule.repo),
                            'unsafe pattern or push; rendered as RW+, no rewind'))
            rule = ProtectedBranch(rule.repo, '*', access.OWNER, False, False)
        by_repo.setdefault(rule.repo, []).append(dataclasses.asdict(rule))
    files = {}
    for name, found in by_repo.items():
        rewinders = [user for user, permission in rules[name].items()
                     if permission == access.Permission.REWIND]
        files[policy.branches_file(name)] = policy.branches_text(found, rewinders)
    if repo_size_bytes is not None and repo_size_bytes >= 0:
        files[policy.QUOTA_FILE] = policy.quota_text(repo_size_bytes)
    return files


def _token_lines(deploy_tokens, tokens, names, with_access, skipped):
    """``hash login gitolite-user expires scope`` lines for the HTTP front."""
    lines = []
    for t in deploy_tokens:
        if (t.repo in names and _KEY_ID.fullmatch(t.uuid or '')
                and t.permission in DEPLOY_PERMISSIONS):
            lines.append((t.token_hash, t.username, DEPLOY_TOKEN_PREFIX + t.uuid,
                          t.expires, t.repo, 'deploy token %s' % t.uuid))
    for t in tokens:
        try:
            user = gitolite_user(t.user_id)
        except ValueError:
            continue
        if user in with_access:
            lines.append((t.token_hash, t.user_id, user, t.expires, '*',
                          'token %s' % t.uuid))
    out = []
    for digest, login, user, expires, scope, what in lines:
        if not (_HASH.fullmatch(digest or '') and _LOGIN.fullmatch(login or '')
                and isinstance(expires, int) and expires >= 0):
            skipped.append((what, 'unsafe hash, login or expiry'))
            continue
        out.append('%s %s %s %d %s\n' % (digest, login, user, expires, scope))
    return out


def _group(name, members, per_line=GROUP_LINE):
    """``@name = a b c`` lines (gitolite adds up repeated definitions)."""
    return ['%s = %s' % (name, ' '.join(members[i:i + per_line]))
            for i in range(0, len(members), per_line)] + ([''] if members else [])


def conf_repos(conf_text: str) -> Set[str]:
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
