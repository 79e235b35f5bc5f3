"""Local stacks when the service runs as an ordinary user (not root).

As root (CI) the API is started as a throwaway unprivileged user; as an
ordinary user the other tests already run this way and this one runs as
that user too.
"""
import os
import pathlib

import pytest

from tests.functional import gitserver


@pytest.fixture
def api(tmp_path):
    with gitserver.stacks_dir() as top:
        if os.geteuid() == 0:
            # pytest's temp dirs are root's (0700): the user works in its own
            server = gitserver.UnprivilegedApi(pathlib.Path(top))
        else:
            server = gitserver.GitApi(tmp_path, top)
        try:
            server.start()
            yield server
        finally:
            server.stop()
            if isinstance(server, gitserver.UnprivilegedApi):
                server.remove_user()


def _uid_of(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Uid:'):
                return int(line.split()[1])


def test_ordinary_user_runs_stacks_and_serves_pushes(api, tmp_path):
    uid = getattr(api, 'uid', os.geteuid())
    assert uid != 0
    alice = gitserver.Dev(api, tmp_path, 'project-u', 'alice')
    repo = alice.wait_active(alice.create_repo('app'))
    stack = alice.pin()
    import pwd
    assert stack['ssh_user'] == pwd.getpwuid(uid).pw_name
    pids = gitserver.sshd_pids(api.stacks_path)
    assert pids and all(_uid_of(pid) == uid for pid in pids)
    home = api.home(stack['uuid'])
    assert os.stat(str(home / '.gitolite.rc')).st_uid == uid
    assert oct(os.stat(str(home / '.solum-git' / 'hook.json')).st_mode & 0o777) == '0o600'

    done, work = alice.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    commit = alice.commit(work, 'from an unprivileged server')
    done = alice.push(work)
    assert done.returncode == 0, done.stderr
    assert commit in alice.ls_remote(repo['git_url']).stdout
