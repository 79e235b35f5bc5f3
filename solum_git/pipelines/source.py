"""Where a run gets the pushed code: a local path, or the stack's server over SSH
(common/gitssh.py)."""
import os
import threading
from typing import Mapping, Optional

from solum_git.common import gitssh
from solum_git.pipelines import process


class FetchError(Exception):
    pass


class Source:
    """A git URL (path or ssh://) and the environment git needs to read it."""

    def __init__(self, url: str, env: Optional[Mapping[str, str]] = None,
                 ssh: Optional[gitssh.Ssh] = None):
        self.url = url
        self.env = dict(env or {})
        self.ssh = ssh

    def git_env(self) -> dict[str, str]:
        return process.clean_env(dict(self.env, GIT_TERMINAL_PROMPT='0'))

    def _git(self, args, log, timeout, stopping):
        return process.run(['git'] + args, None, self.git_env(), log, timeout, stopping)

    def fetch(self, git_dir: str, ref: str, commit: str, log: process.Log, timeout: float,
              stopping: threading.Event) -> None:
        """Bring ``commit`` into ``git_dir`` (by id, else through its ref)."""
        quiet = ['-c', 'advice.detachedHead=false', '-C', git_dir]
        if self._git(quiet + ['fetch', '-q', '--no-tags', self.url, commit], log,
                     timeout, stopping) == 0:
            return
        # servers speaking protocol v0 refuse unadvertised ids: take the ref
        if self._git(quiet + ['fetch', '-q', '--no-tags', self.url,
                              '+%s:refs/solum-git/pushed' % ref],
                     log, timeout, stopping) != 0:
            raise FetchError('cannot fetch %s from the git server' % ref)
        if self._git(quiet + ['cat-file', '-e', commit + '^{commit}'], log, timeout,
                     stopping) != 0:
            raise FetchError('commit %s is no longer on %s (force-pushed?)'
                             % (commit[:12], ref))

    def checkout(self, dest: str, ref: str, commit: str, log: process.Log, timeout: float,
                 stopping: threading.Event) -> None:
        os.makedirs(dest, exist_ok=True)
        if self._git(['init', '-q', dest], log, timeout, stopping) != 0:
            raise FetchError('git init failed in %s' % dest)
        self.fetch(dest, ref, commit, log, timeout, stopping)
        if self._git(['-c', 'advice.detachedHead=false', '-C', dest, 'checkout', '-q',
                      '--detach', commit], log, timeout, stopping) != 0:
            raise FetchError('cannot check out %s' % commit[:12])

    def close(self) -> None:
        if self.ssh is not None:
            self.ssh.close()
