"""A tenant's test_cmd against the sandbox's limits (real bwrap, real git, the
real API and engine): a fork bomb, a 2 GB file, a CPU spin, a full work dir,
a memory hog, a full /tmp and ``setsid sleep &`` are each stopped by their
limit or at the run's end, and nothing of them is left on the host.

One project per case, so each has its own uid to look for in /proc. Small
limits keep it quick; the defaults get a realistic run of their own.
"""
import os

import pytest

from tests.functional import pushenv
from tests.functional import sandboxes

LIMITS = {'cpu_seconds': 2, 'memory_mb': 128, 'max_processes': 48,
          'max_file_size_mb': 32, 'max_disk_mb': 64, 'disk_check_interval': 0.2,
          'tmp_size_mb': 16}

CASES = {
    'fork-bomb': ('sh bomb.sh', {'bomb.sh': 'bomb() { bomb | bomb & }\nbomb\nsleep 5\n'}),
    'big-file': ('dd if=/dev/zero of=big bs=1M count=2048', {}),
    'cpu-spin': ('while :; do :; done', {}),
    'full-disk': ('for i in 1 2 3 4 5 6 7 8 9 10; do '
                  'dd if=/dev/zero of=f$i bs=1M count=16 2>/dev/null; sleep 0.2; done', {}),
    'memory': ('python3 -c "x = bytearray(400 * 1024 * 1024); print(len(x))"', {}),
    'full-tmp': ('dd if=/dev/zero of=/tmp/t bs=1M count=100', {}),
    'huge-checkout': ('sleep 10', {'blob.bin': '0' * (80 * 1024 * 1024)}),
    'setsid-sleep': ('setsid sleep 1000 & sleep 1000 & echo started in the background',
                     {}),
}


@pytest.fixture(scope='module')
def limited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('limits')
    env = pushenv.PushEnv(tmp, 'sqlite:///%s' % (tmp / 'db.sqlite'),
                          sandbox=LIMITS, pipelines={'run_timeout': 20}).start()
    out = {}
    try:
        uris = {case: sandboxes.push_local(env, tmp, 'p-%s' % case,
                                           dict(files, **{'README': case}),
                                           {'test_cmd': cmd})
                for case, (cmd, files) in CASES.items()}
        for case, (client, uri) in uris.items():
            run = sandboxes.finished(client, uri)
            uid = sandboxes.sandbox_uid(env, 'p-%s' % case)
            run['uid'] = uid
            run['clean'] = sandboxes.no_processes_left(uid)
            run['left'] = sandboxes.processes_of(uid)
            run['box'] = os.path.join(env.conf.state_path, 'runs', run['uuid'], 'box')
            out[case] = run
        out['api_after'] = env.client().get('/v1/infrastructure').status_code
        out['cgroups'] = [name for name in os.listdir('/sys/fs/cgroup/pids/solum-git')
                          if os.path.isdir('/sys/fs/cgroup/pids/solum-git/' + name)] \
            if os.path.isdir('/sys/fs/cgroup/pids/solum-git') else []
        yield out
    finally:
        env.stop()


def _clean(run):
    assert run['clean'], 'processes of uid %d left: %s' % (run['uid'], run['left'])


def test_every_project_runs_as_its_own_uid(limited):
    uids = [limited[case]['uid'] for case in CASES]
    assert len(set(uids)) == len(uids)
    assert all(uid >= 1900000000 for uid in uids)


def test_a_fork_bomb_hits_the_process_limit_and_dies_with_the_run(limited):
    run = limited['fork-bomb']
    assert 'process limit reached' in run['log'], run['log']
    assert 'max_processes = 48' in run['log']
    _clean(run)


def test_a_2gb_file_stops_at_the_file_size_limit(limited):
    run = limited['big-file']
    assert run['status'] == 'FAILED', run
    assert 'test_cmd exited with 153' in run['log'] and 'SIGXFSZ' in run['log'], run['log']
    assert os.path.getsize(os.path.join(run['box'], 'src', 'big')) <= 32 * 1024 * 1024
    _clean(run)


def test_a_cpu_spin_stops_at_the_cpu_limit_long_before_the_wall_time(limited):
    run = limited['cpu-spin']
    assert run['status'] == 'FAILED', run
    assert 'SIGXCPU' in run['log'] and 'cpu_seconds' in run['log'], run['log']
    _clean(run)


def test_a_work_dir_over_max_disk_is_killed_by_the_watcher(limited):
    run = limited['full-disk']
    assert run['status'] == 'FAILED', run
    assert 'more than [sandbox] max_disk_mb = 64; killed' in run['status_reason'], run
    assert not os.path.exists(os.path.join(run['box'], 'src', 'f10')), \
        'the loop must have been killed before its end'
    _clean(run)


def test_a_checkout_already_over_max_disk_is_stopped_at_once(limited):
    run = limited['huge-checkout']
    assert run['status'] == 'FAILED', run
    assert 'max_disk_mb = 64; killed' in run['status_reason'], run
    assert 'timed out' not in run['log']
    _clean(run)


def test_a_memory_hog_is_killed_by_the_memory_limit(limited):
    run = limited['memory']
    assert run['status'] == 'FAILED', run
    assert 'memory limit reached' in run['log'], run['log']
    assert str(400 * 1024 * 1024) not in run['log']
    _clean(run)


def test_tmp_is_a_small_tmpfs(limited):
    run = limited['full-tmp']
    assert run['status'] == 'FAILED', run
    assert 'No space left on device' in run['log'], run['log']
    _clean(run)


def test_setsid_sleep_in_the_background_dies_at_the_run_end(limited):
    run = limited['setsid-sleep']
    assert run['status'] == 'SUCCESS', run
    assert 'started in the background' in run['log']
    _clean(run)


def test_the_host_is_fine_afterwards(limited):
    assert limited['api_after'] == 200
    assert limited['cgroups'] == [], 'every run\'s cgroup is removed at its end'


def test_without_test_network_only_the_sandboxs_own_loopback_exists(tmp_path):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          sandbox={'test_network': False}).start()
    try:
        api_port = env.api.url.rsplit(':', 1)[1]
        probe = ('cat /proc/net/dev | tail -n +3 | cut -d: -f1\n'
                 'python3 -c "import socket; socket.create_connection((\'127.0.0.1\', %s), 2)"'
                 ' || echo "api unreachable"\n' % api_port)
        client, uri = sandboxes.push_local(env, tmp_path, 'p-offline', {'probe.sh': probe},
                                           {'test_cmd': 'sh probe.sh'})
        run = sandboxes.finished(client, uri)
    finally:
        env.stop()
    assert 'network off (loopback only)' in run['log']
    assert 'ConnectionRefusedError' in run['log'] and 'api unreachable' in run['log'], \
        run['log']
    interfaces = run['log'].split('sandbox bwrap:', 1)[1].splitlines()[1:2]
    assert [i.strip() for i in interfaces] == ['lo'], run['log']


def test_the_default_limits_let_an_ordinary_build_pass(tmp_path):
    """Threads, a 300 MB file, 50 MB of /tmp, git, python: all within the defaults."""
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite')).start()
    try:
        build = '\n'.join([
            'set -e',
            'python3 -c "import threading, time; ts = [threading.Thread(target=time.sleep,'
            ' args=(1,)) for _ in range(200)]; [t.start() for t in ts];'
            ' [t.join() for t in ts]; print(\'threads ok\')"',
            'dd if=/dev/zero of=build.out bs=1M count=300 2>/dev/null',
            'dd if=/dev/zero of=/tmp/scratch bs=1M count=50 2>/dev/null',
            'git init -q lib && git -C lib -c user.email=ci@x -c user.name=ci commit -q '
            '--allow-empty -m one && echo git ok',
            'mkdir -p "$HOME/.cache" && echo cached > "$HOME/.cache/pkg" && echo home ok',
            'for i in $(seq 100); do true & done; wait; echo forks ok'])
        client, uri = sandboxes.push_local(env, tmp_path, 'p-build', {'build.sh': build},
                                           {'test_cmd': 'sh build.sh'})
        run = sandboxes.finished(client, uri)
    finally:
        env.stop()
    assert run['status'] == 'SUCCESS', run['log']
    for line in ('threads ok', 'git ok', 'home ok', 'forks ok'):
        assert line in run['log']
    assert 'memory 2048 MiB in all (cgroup), processes 512 (cgroup)' in run['log']
