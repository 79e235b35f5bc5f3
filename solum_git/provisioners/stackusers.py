"""One unix user per local git server (when the service runs as root).

The user is named from the stack's uuid (``sg-`` and its first 12 hex
digits) and carries ``solum-git stack <uuid>`` as its comment: the comment,
not the name, is what makes a user this stack's, so solum-git never adopts
or deletes a user it did not make for that stack.
"""
import os
import pwd
import subprocess
import threading
import time
from typing import Optional

from solum_git.common import procs

PREFIX = 'sg-'
_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
# useradd/userdel lock /etc/passwd; one at a time in this process, and a
# retry when another process holds the lock
_PASSWD_LOCK = threading.Lock()


class UserError(Exception):
    """The stack's user could not be made or removed; the text says why."""


def name_for(stack_uuid: str) -> str:
    return PREFIX + stack_uuid.replace('-', '')[:12].lower()


def comment_for(stack_uuid: str) -> str:
    return 'solum-git stack %s' % stack_uuid


def is_stack_user(name: Optional[str], stack_uuid: str) -> bool:
    """True if ``name`` is the per-stack user name of that stack."""
    return bool(name) and name == name_for(stack_uuid)


def lookup(stack_uuid: str) -> Optional[pwd.struct_passwd]:
    """The stack's passwd entry, or None; UserError if the name is someone else's."""
    name = name_for(stack_uuid)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    if entry.pw_gecos != comment_for(stack_uuid):
        raise UserError('user %s exists but is not the user of stack %s (comment %r); '
                        'remove or rename it' % (name, stack_uuid, entry.pw_gecos))
    return entry


def ensure(stack_uuid: str, home: str) -> Optional[pwd.struct_passwd]:
    """The stack's user (created if missing): a system user, unlocked, HOME ``home``."""
    entry = lookup(stack_uuid)
    if entry is not None:
        if os.path.realpath(entry.pw_dir) != os.path.realpath(home):
            _passwd(['usermod', '--home', home, entry.pw_name])  # stacks_path moved
            entry = lookup(stack_uuid)
        return entry
    # -p '*': no password, but not locked ("!"), which sshd with UsePAM no refuses
    _passwd(['useradd', '--system', '--user-group', '--shell', '/bin/sh',
             '--home-dir', home, '--no-create-home', '--password', '*',
             '--comment', comment_for(stack_uuid), name_for(stack_uuid)])
    return lookup(stack_uuid)


def kill_processes(stack_uuid: str) -> None:
    """Stop every process of the stack's user (its git sessions, hooks)."""
    entry = lookup(stack_uuid)
    if entry is None:
        return
    for _attempt in range(3):
        left = procs.of_user(entry.pw_uid)
        if not left:
            return
        for pid, started in left:
            procs.stop(pid, started, grace=1.0)


def remove(stack_uuid: str) -> bool:
    """Delete the stack's user (and its group), after its last process."""
    entry = lookup(stack_uuid)
    if entry is None:
        return False
    kill_processes(stack_uuid)
    _passwd(['userdel', entry.pw_name])
    return True


def _passwd(argv):
    last = ''
    for attempt in range(10):
        with _PASSWD_LOCK:
            done = subprocess.run(argv, capture_output=True, text=True,
                                  env={'PATH': _PATH, 'LANG': 'C'})
        if done.returncode == 0:
            return
        last = (done.stderr or done.stdout).strip()
        if 'lock' not in last:
            break
        time.sleep(0.2 * (attempt + 1))
    raise UserError('%s failed: %s' % (' '.join(argv[:1] + argv[-1:]), last[-500:]))
