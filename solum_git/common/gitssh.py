"""ssh to a tenant git server as solum-git's admin: one set of options for all.

The engine's admin work (gitolite/admin.py, with its master connection), a
run's fetch of the pushed code (pipelines/source.py) and the spool flush
(engine/flush.py) all run ssh with ``options``: no user or system ssh config,
no agent, only the given key, only the pinned host keys, never a prompt.
"""
from collections.abc import Iterable
import os
import shlex
import shutil
import tempfile

from solum_git.common import known_hosts
from solum_git.common import urls

CONNECT_TIMEOUT = 10


def options(key_path: str, known_hosts_path: str,
            connect_timeout: int = CONNECT_TIMEOUT) -> list[str]:
    """ssh's arguments (no port, no destination) for the admin key and pinned keys."""
    return ['-F', '/dev/null', '-i', key_path,
            '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
            '-o', 'UserKnownHostsFile=%s' % known_hosts_path,
            '-o', 'GlobalKnownHostsFile=/dev/null',
            '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
            '-o', 'ConnectTimeout=%d' % connect_timeout,
            '-o', 'ServerAliveInterval=15', '-o', 'LogLevel=ERROR']


class Ssh:
    """The admin key and the pinned host keys of one server, in a private temp dir.

    ``close`` removes them; one per use (a run's fetch, a flush).
    """

    def __init__(self, host: str, port: int | None, user: str, private_key: str,
                 host_key_lines: Iterable[str]) -> None:
        self.host = host
        self.port = port or 22
        self.user = user
        self.dir = tempfile.mkdtemp(prefix='solum-git-ssh-')
        self.key = os.path.join(self.dir, 'id')
        fd = os.open(self.key, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(private_key.strip() + '\n')
        self.known_hosts = os.path.join(self.dir, 'known_hosts')
        with open(self.known_hosts, 'w') as f:
            f.write('\n'.join(known_hosts.lines(host, self.port, host_key_lines)) + '\n')

    @classmethod
    def for_stack(cls, stack) -> 'Ssh | None':
        """For a stack row; None while it has no address, admin key or host key."""
        if not (stack.admin_private_key and stack.ssh_host and stack.ssh_host_keys):
            return None
        return cls(stack.ssh_host, stack.ssh_port, stack.ssh_user,
                   stack.admin_private_key, stack.ssh_host_keys.splitlines())

    def argv(self) -> list[str]:
        return ['ssh'] + options(self.key, self.known_hosts) + ['-p', str(self.port)]

    def command(self, *args: str) -> list[str]:
        return self.argv() + ['%s@%s' % (self.user, self.host)] + list(args)

    def repo_url(self, repo_name: str) -> str:
        return urls.git_url(self.user, self.host, self.port, repo_name)

    def env(self) -> dict[str, str]:
        return {'GIT_SSH_COMMAND': shlex.join(self.argv()), 'GIT_SSH_VARIANT': 'ssh'}

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
