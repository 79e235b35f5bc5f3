"""A hostile tenant's test_cmd on real parts: solum-git-api (engine in process,
local runner under bwrap), two projects' gitolite servers behind their own
sshd, real git pushes over SSH.

Mallory's probe tries to read Alice's repository, the database, the config,
Alice's hook secret and admin key, /etc/shadow, the engine's /proc, to write
into state_path, through symlinks in its own repo too, and to kill everything
it can. Every attempt is denied, the run log says so, nothing secret is in
it, and Alice's server and the API are fine afterwards.
"""
import contextlib
import os
import pathlib
import re
import shlex
import sqlite3

import pytest

from tests.functional import gitserver
from tests.functional import sandboxes

PROBE = '''probe() {
    label=$1; shift
    if out=$("$@" 2>&1); then echo "REACHED $label: $out"; else echo "DENIED $label: $out"; fi
}
'''


def _probe_script(targets, api_pid, api_port):
    lines = [PROBE]
    for label, command in targets:
        lines.append('probe %s %s' % (label, command))
    lines += [
        'probe engine-environ cat /proc/%d/environ' % api_pid,
        'probe engine-kill kill -9 %d' % api_pid,
        'probe sandbox-init-environ cat /proc/1/environ',
        # PTRACE_ATTACH to the sandbox's init (the only process it sees that is not its own)
        'probe ptrace-init python3 -c "import ctypes, os, sys; '
        'libc = ctypes.CDLL(None, use_errno=True); r = libc.ptrace(16, 1, 0, 0); '
        'print(os.strerror(ctypes.get_errno())); sys.exit(0 if r == 0 else 1)"',
        'probe root-home ls /root',
        'probe symlink-shadow cat evil-shadow',
        'probe symlink-state ls evil-state/',
        'probe symlink-db cat evil-db',
        # loopback is the host's with test_network on (the default): documented
        'probe api python3 -c "import socket; socket.create_connection((\'127.0.0.1\', '
        '%d), 2)"' % api_port,
        # SIGKILL to every process it may signal: its own only (here, that sleep)
        'sleep 100 &',
        'kill -9 -1 && echo "kill -9 -1 killed something"',
        'echo "after kill -9 -1: alive"',
        'ls -a / | tr "\\n" " "; echo',
        'grep -E "^(NoNewPrivs|CapEff|CapPrm|CapAmb):" /proc/self/status',
        'echo "fds: $(ls /proc/self/fd | tr "\\n" " ")"',
        'exit 0']
    return '\n'.join(lines) + '\n'


@pytest.fixture(scope='module')
def attack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('isolation')
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks)
        api.start()
        try:
            alice = gitserver.Dev(api, tmp, 'project-a', 'alice')
            secret_repo = alice.wait_active(alice.create_repo('secret'), timeout=120)
            alice.pin()
            done, work = alice.clone(secret_repo['git_url'], 'secret')
            assert done.returncode == 0, done.stderr
            alice.commit(work, 'secret', {'plans.txt': 'ALICE-PLANS-7f3a9\n'})
            assert alice.push(work).returncode == 0

            mallory = gitserver.Dev(api, tmp, 'project-m', 'mallory')
            evil = mallory.wait_active(mallory.create_repo('evil'), timeout=120)
            mallory.pin()
            alice_stack = api.stack_row('project-a')
            state = pathlib.Path(api.config.parent / 'state')
            admin_key = state / 'admin' / alice_stack['uuid'] / 'id_ed25519'
            hook_json = api.home(alice_stack['uuid']) / '.solum-git' / 'hook.json'
            alice_repo = api.home(alice_stack['uuid']) / 'repositories' / 'secret.git'
            for path in (admin_key, hook_json, alice_repo, api.db_path, api.config):
                assert path.exists(), 'the probe must aim at what is there: %s' % path
            targets = [
                ('shadow', 'cat /etc/shadow'),
                ('other-repo', 'git clone -q %s /tmp/stolen' % shlex.quote(str(alice_repo))),
                ('other-repo-head', 'cat %s' % shlex.quote(str(alice_repo / 'HEAD'))),
                ('database', 'cat %s' % shlex.quote(str(api.db_path))),
                ('config', 'cat %s' % shlex.quote(str(api.config))),
                ('hook-secret', 'cat %s' % shlex.quote(str(hook_json))),
                ('admin-key', 'cat %s' % shlex.quote(str(admin_key))),
                ('write-state', 'touch %s' % shlex.quote(str(state / 'pwned'))),
                ('write-runs', 'mkdir %s' % shlex.quote(str(state / 'runs' / 'pwned'))),
                ('list-runs', 'ls %s' % shlex.quote(str(state / 'runs'))),
            ]
            # exec: the probe is the run's first process, so kill -9 -1 spares it
            r = mallory.api.post('/v1/infrastructure/repos/%s/triggers' % evil['uuid'],
                                 json={'type': 'local',
                                       'config': {'test_cmd': 'exec sh probe.sh'}})
            assert r.status_code == 201, r.text
            done, work = mallory.clone(evil['git_url'], 'evil')
            assert done.returncode == 0, done.stderr
            os.symlink('/etc/shadow', str(work / 'evil-shadow'))
            os.symlink(str(state), str(work / 'evil-state'))
            os.symlink(str(api.db_path), str(work / 'evil-db'))
            mallory.commit(work, 'probe', {'probe.sh': _probe_script(
                targets, api.proc.pid, api.port)})
            done = mallory.git('push', 'origin', 'HEAD:refs/heads/main', cwd=work)
            assert done.returncode == 0, done.stderr
            uri = re.search(r'local run for main queued: (\S+)', done.stderr).group(1)
            run = sandboxes.finished(mallory.api, uri)
            with contextlib.closing(sqlite3.connect(str(api.db_path))) as db:
                uid = db.execute('SELECT uid FROM sandbox_uids WHERE project_id = ?',
                                 ('project-m',)).fetchone()[0]
            yield {'run': run, 'labels': [t[0] for t in targets], 'state': state,
                   'secrets': {'plans': 'ALICE-PLANS-7f3a9',
                               'hook_secret': alice_stack['hook_secret'],
                               'admin_key': admin_key.read_text().splitlines()[1],
                               'sqlite': 'SQLite format 3'},
                   'uid': uid, 'clean': sandboxes.no_processes_left(uid),
                   'api_alive': api.proc.poll() is None,
                   'alice_after': alice.ls_remote(secret_repo['git_url']).returncode,
                   'shadow_owner': os.stat('/etc/shadow').st_uid,
                   'state_owner': os.stat(str(state)).st_uid,
                   'db_owner': os.stat(str(api.db_path)).st_uid}
        finally:
            api.stop()


def test_the_probe_ran_in_the_sandbox_as_its_projects_uid(attack):
    run = attack['run']
    assert run['status'] == 'SUCCESS', run['log']
    assert 'sandbox bwrap: uid %d' % attack['uid'] in run['log']


@pytest.mark.parametrize('label', [
    'shadow', 'other-repo', 'other-repo-head', 'database', 'config', 'hook-secret',
    'admin-key', 'write-state', 'write-runs', 'list-runs', 'engine-environ', 'engine-kill',
    'sandbox-init-environ', 'ptrace-init', 'root-home', 'symlink-shadow', 'symlink-state',
    'symlink-db'])
def test_each_attempt_is_denied_and_the_log_says_why(attack, label):
    log = attack['run']['log']
    line = next((x for x in log.splitlines() if x.split(':', 1)[0].endswith(' ' + label)),
                None)
    assert line is not None, log
    assert line.startswith('DENIED %s: ' % label), line
    assert re.search(r'No such file or directory|Permission denied|No such process|'
                     r'Read-only file system|does not exist|Operation not permitted',
                     line), line


def test_no_secret_reached_the_log(attack):
    log = attack['run']['log']
    for name, secret in attack['secrets'].items():
        assert secret not in log, name


def test_nothing_was_written_into_state_path(attack):
    assert not (attack['state'] / 'pwned').exists()
    assert not (attack['state'] / 'runs' / 'pwned').exists()


def test_the_checkout_hand_over_did_not_follow_the_repos_symlinks(attack):
    assert attack['shadow_owner'] == 0
    assert attack['state_owner'] == 0 and attack['db_owner'] == 0


def test_the_sandbox_sees_only_the_system_and_its_work_dir(attack):
    log = attack['run']['log']
    listing = next(x for x in log.splitlines() if x.startswith('. .. '))
    assert set(listing.split()) <= {'.', '..', 'bin', 'dev', 'etc', 'lib', 'lib32', 'lib64',
                                    'libx32', 'proc', 'sbin', 'tmp', 'usr', 'work'}, listing


def test_no_capabilities_no_new_privileges_no_inherited_files(attack):
    """(no_new_privs: a setuid-root program in /usr runs without root.)"""
    log = attack['run']['log']
    for line in ('NoNewPrivs:\t1', 'CapEff:\t0000000000000000', 'CapPrm:\t0000000000000000',
                 'CapAmb:\t0000000000000000'):
        assert line in log, line
    fds = next(x for x in log.splitlines() if x.startswith('fds: ')).split()[1:]
    # stdin, stdout, stderr, and ls's own handle on the directory it lists
    assert fds == ['0', '1', '2', '3'], fds


def test_the_api_on_loopback_is_reachable_with_test_network_on(attack):
    assert 'REACHED api' in attack['run']['log']


def test_kill_minus_one_hurts_only_the_sandbox(attack):
    assert 'kill -9 -1 killed something' in attack['run']['log']
    assert 'after kill -9 -1: alive' in attack['run']['log']
    assert attack['api_alive']
    assert attack['alice_after'] == 0, 'alice\'s git server still serves'
    assert attack['clean'], sandboxes.processes_of(attack['uid'])
