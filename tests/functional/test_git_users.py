"""As root, each local git server runs as a unix user of its own: one stack's
user cannot read another stack's home, hook secret, keys or repos, nor the
service's database, config or admin keys; the user goes with its stack.

The state directory, config and database sit where git users can walk
(``state_path`` with ``stacks_path`` under it, as the quick start lays them
out), so what stops them is the files' own modes, not a closed parent.
"""
import contextlib
import os
import pathlib
import pwd
import sqlite3
import stat
import subprocess

import pytest

from tests.functional import gitserver


@pytest.fixture
def api():
    assert os.geteuid() == 0, 'per-stack users exist only when the service runs as root'
    with gitserver.stacks_dir() as top:
        top = pathlib.Path(top)
        server = gitserver.GitApi(top, str(top / 'state' / 'stacks'))
        # as an operator's editor or an older version would leave them
        os.chmod(str(server.config), 0o644)
        os.chmod(str(server.db_path), 0o644)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _as(user, *argv):
    return subprocess.run(['runuser', '-u', user, '--'] + [str(a) for a in argv],
                          capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def _denied(user, *argv):
    done = _as(user, *argv)
    assert done.returncode != 0 and 'Permission denied' in done.stderr, (
        '%s could run %s: rc %s, %r' % (user, argv, done.returncode, done.stdout[:200]))


def _ready(api, tmp_path, project, user):
    dev = gitserver.Dev(api, tmp_path, project, user)
    repo = dev.wait_active(dev.create_repo('app'))
    stack = dev.pin()
    done, work = dev.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    dev.commit(work, 'hello from %s' % project)
    done = dev.push(work)
    assert done.returncode == 0, done.stderr
    return dev, repo, stack


def test_each_stack_has_its_own_user_who_reaches_nothing_else(api, tmp_path):
    alice, a_repo, a = _ready(api, tmp_path, 'project-a', 'alice')
    bob, b_repo, b = _ready(api, tmp_path, 'project-b', 'bob')
    users = {}
    for stack, repo in ((a, a_repo), (b, b_repo)):
        user = stack['ssh_user']
        assert user == 'sg-' + stack['uuid'].replace('-', '')[:12]
        assert repo['git_url'].startswith('ssh://%s@' % user)
        entry = pwd.getpwnam(user)
        assert entry.pw_uid != 0 and entry.pw_gecos == 'solum-git stack %s' % stack['uuid']
        home = api.home(stack['uuid'])
        st = os.stat(str(home))
        assert st.st_uid == entry.pw_uid and stat.S_IMODE(st.st_mode) == 0o700
        config = (api.sshd_dir(stack['uuid']) / 'sshd_config').read_text()
        assert 'AllowUsers %s\n' % user in config
        users[stack['uuid']] = entry
    assert users[a['uuid']].pw_uid != users[b['uuid']].pw_uid
    state = pathlib.Path(api.stacks_path).parent

    for me, other in ((a, b), (b, a)):
        user = me['ssh_user']
        other_home = api.home(other['uuid'])
        _denied(user, 'ls', other_home)
        _denied(user, 'cat', other_home / '.solum-git' / 'hook.json')
        _denied(user, 'cat', other_home / '.ssh' / 'authorized_keys')
        _denied(user, 'cat', other_home / 'repositories' / 'app.git' / 'config')
        # the service's own files
        _denied(user, 'cat', api.db_path)
        _denied(user, 'cat', api.config)
        _denied(user, 'ls', state)
        _denied(user, 'ls', api.stacks_path)
        _denied(user, 'ls', state / 'admin')
        for stack in (me, other):
            _denied(user, 'cat', state / 'admin' / stack['uuid'] / 'id_ed25519')
        # its own server's sshd files (host key, config) are root's
        _denied(user, 'cat', api.sshd_dir(me['uuid']) / 'ssh_host_ed25519_key')
        _denied(user, 'touch', api.sshd_dir(me['uuid']) / 'sshd_config')
        _denied(user, 'touch', state / 'planted')
        # its own home it can read
        assert _as(user, 'cat', api.home(me['uuid']) / '.solum-git' / 'hook.json') \
            .returncode == 0
    for path in (api.db_path, api.config):
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600, path

    # bob's last repo goes, and with its stack the user and its processes
    b_uid = users[b['uuid']].pw_uid
    r = bob.api.delete('/v1/infrastructure/repos/%s' % b_repo['uuid'])
    assert r.status_code == 204, r.text
    gitserver.wait_for(lambda: bob.api.get('/v1/infrastructure/stacks/%s' % b['uuid'])
                       .status_code == 404, timeout=60, what="bob's stack deleted")
    with pytest.raises(KeyError):
        pwd.getpwnam(b['ssh_user'])
    assert not os.path.exists(str(api.home(b['uuid'])))
    left = [pid for pid in os.listdir('/proc') if pid.isdigit()
            and _uid(int(pid)) == b_uid]
    assert not left, left
    # alice is untouched
    assert alice.ls_remote(a_repo['git_url']).returncode == 0


def _uid(pid):
    """The uid of a live process (a zombie is dead: None)."""
    info = gitserver._proc_stat(pid)
    try:
        return os.stat('/proc/%d' % pid).st_uid if info and info[0] != 'Z' else None
    except OSError:
        return None


def test_symlinks_planted_in_a_home_are_not_followed_by_the_root_bootstrap(api, tmp_path):
    """The git user controls its home; root's bootstrap must change nothing through it."""
    alice, repo, stack = _ready(api, tmp_path, 'project-y', 'alice')
    top = pathlib.Path(api.stacks_path).parent
    victim_dir, victim = top / 'victim-dir', top / 'victim'
    victim_dir.mkdir(mode=0o755)
    victim.write_text('root only\n')
    os.chmod(str(victim), 0o600)
    # directories the bootstrap makes and files it writes, each a symlink to root's
    api.as_git(stack['uuid'], '''
        set -e
        rm -rf .solum-git/bin local/hooks
        ln -s %(dir)s .solum-git/bin
        ln -s %(dir)s local/hooks
        for f in .solum-git/gitolite.rc .solum-git/hook.json .gitconfig \\
                 .solum-git/admin-user; do
            rm -f "$f"; ln -s %(file)s "$f"
        done
    ''' % {'dir': victim_dir, 'file': victim})
    api.resync(alice.api, stack['uuid'])  # a full bootstrap, as root
    home = api.home(stack['uuid'])
    gitserver.wait_for(lambda: not (home / '.solum-git' / 'hook.json').is_symlink()
                       and not (home / '.solum-git' / 'bin').is_symlink(), timeout=60,
                       what='the bootstrap to replace the planted symlinks')
    api.wait_applied('project-y')
    assert victim.read_text() == 'root only\n'
    for path, mode in ((victim, 0o600), (victim_dir, 0o755)):
        st = os.stat(str(path))
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, mode), path
    assert os.listdir(str(victim_dir)) == []
    # and the server works again
    done, work = alice.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    alice.commit(work, 'after the symlinks')
    done = alice.push(work)
    assert done.returncode == 0 and 'push recorded' in done.stderr, done.stderr


def _legacy_user():
    """The shared user of stacks made before users per stack (made if missing)."""
    try:
        pwd.getpwnam(LEGACY)
        return False
    except KeyError:
        subprocess.run(['useradd', '--system', '--user-group', '--shell', '/bin/sh',
                        '--home-dir', '/', '--no-create-home', '--password', '*', LEGACY],
                       check=True)
        return True


def _owners(top):
    found = set()
    for root, dirs, files in os.walk(str(top)):
        for name in dirs + files:
            found.add(os.lstat(os.path.join(root, name)).st_uid)
    return found


LEGACY = 'solum-git'


def test_a_stack_of_the_shared_user_keeps_working_and_moves_to_its_own(api, tmp_path):
    alice, repo, stack = _ready(api, tmp_path, 'project-o', 'alice')
    uuid = stack['uuid']
    home = api.home(uuid)
    made = _legacy_user()
    legacy = pwd.getpwnam(LEGACY)
    try:
        # what an older solum-git made: the stack on the shared user
        api.stop_api()
        api.manage('stacks', 'stop', uuid)
        for root, dirs, files in os.walk(str(home)):
            for name in dirs + files:
                os.chown(os.path.join(root, name), legacy.pw_uid, legacy.pw_gid,
                         follow_symlinks=False)
        os.chown(str(home), legacy.pw_uid, legacy.pw_gid)
        from solum_git.provisioners import stackusers
        stackusers.remove(uuid)
        with contextlib.closing(sqlite3.connect(str(api.db_path))) as db:
            db.execute('UPDATE stacks SET ssh_user = ? WHERE uuid = ?', (LEGACY, uuid))
            db.commit()
        # the shared user can reach other old stacks' files: one is hard-linked here
        other = pathlib.Path(api.stacks_path).parent / 'another-old-stacks-secret'
        other.write_text('secret of another stack\n')
        os.chown(str(other), legacy.pw_uid, legacy.pw_gid)
        os.chmod(str(other), 0o600)
        os.link(str(other), str(home / '.solum-git' / 'linked'))
        api.start()

        old_url = repo['git_url'].replace(stack['ssh_user'] + '@', LEGACY + '@')
        gitserver.wait_for(lambda: alice.ls_remote(old_url).returncode == 0, timeout=60,
                           what='the old stack served as %s' % LEGACY)
        assert 'AllowUsers %s\n' % LEGACY in (api.sshd_dir(uuid) / 'sshd_config').read_text()
        done, work = alice.clone(old_url)
        assert done.returncode == 0, done.stderr
        alice.commit(work, 'on the shared user')
        done = alice.push(work)
        assert done.returncode == 0 and 'push recorded' in done.stderr, done.stderr

        done = api.manage('stacks', 'migrate', uuid)
        assert 'now user %s' % stack['ssh_user'] in done.stdout, done.stdout

        def moved():
            view = alice.repo(repo['uuid'])
            return view['status'] == 'ACTIVE' and view['git_url'] == repo['git_url'] \
                and alice.ls_remote(repo['git_url']).returncode == 0
        gitserver.wait_for(moved, timeout=60, what='the stack on its own user again')
        own = pwd.getpwnam(stack['ssh_user'])
        assert _owners(home) == {own.pw_uid} and os.stat(str(home)).st_uid == own.pw_uid
        assert alice.ls_remote(old_url).returncode != 0
        done, work = alice.clone(repo['git_url'])
        assert done.returncode == 0, done.stderr
        alice.commit(work, 'on its own user')
        done = alice.push(work)
        assert done.returncode == 0 and 'push recorded' in done.stderr, done.stderr
        # the hard link was copied, not handed over: the other file stays the old user's
        st = os.stat(str(other))
        assert (st.st_uid, st.st_nlink) == (legacy.pw_uid, 1)
        assert (home / '.solum-git' / 'linked').read_text() == 'secret of another stack\n'
    finally:
        if made:
            subprocess.run(['userdel', LEGACY], check=False)
