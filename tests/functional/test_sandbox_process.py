"""The sandbox's life cycle on real bwrap: which thread starts it, failing closed,
apps restarted and restored sandboxed, ``none`` only when asked for, and the
non-root mode (a user namespace as the service's own uid)."""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from solum_git.engine import runs as run_worker
from solum_git.engine import service as engine_service
from solum_git.pipelines import base as pipeline_base
from solum_git.pipelines import process
from solum_git import sandboxes
from solum_git.sandboxes import base
from tests.functional import demo_app
from tests.functional import gitserver
from tests.functional import pushenv
from tests.functional import sandboxes as helpers_sb
from tests.functional import test_push_local
from tests import helpers

UID = 1999999990  # in the default range, never allocated by these tests' databases


def _box(tmp_path):
    box = tmp_path / 'box'
    (box / 'src').mkdir(parents=True)
    (box / 'home').mkdir()
    return str(box)


def _sandbox(tmp_path, **sandbox):
    conf = helpers.make_conf(tmp_path / 'state', 'sqlite://', sandbox=sandbox)
    return sandboxes.load(conf.sandbox.driver, conf), conf


def _job(box, argv, **limits):
    return base.Job('t', argv, box, {'SOLUM_GIT_RUN': 'test'}, UID, network=False,
                    limits=base.Limits(**limits))


def _popen(launch):
    proc = subprocess.Popen(launch.argv, cwd=launch.cwd, env=launch.env,
                            pass_fds=launch.pass_fds, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    launch.spawned(proc)
    return proc


def _from_a_thread_that_ends(start):
    got = {}
    thread = threading.Thread(target=lambda: got.update(proc=start()))
    thread.start()
    thread.join()
    return got['proc']


def test_a_sandbox_started_from_a_thread_that_ends_dies_with_that_thread(tmp_path):
    """The trap itself: --die-with-parent follows the thread, not the process."""
    sandbox, _conf = _sandbox(tmp_path)
    box = _box(tmp_path)
    sandbox.hand_over(box, UID)
    launch = sandbox.launch(_job(box, ['sleep', '30']))

    def start():
        proc = _popen(launch)
        # past bwrap's set-up, so its pid 1 has bound itself to bwrap as well
        pushenv.wait_for(lambda: helpers_sb.processes_of(UID), timeout=5,
                         what='the sandboxed sleep')
        return proc
    proc = _from_a_thread_that_ends(start)
    try:
        assert proc.wait(5) == -signal.SIGKILL
        assert helpers_sb.no_processes_left(UID), 'the whole sandbox goes with the thread'
    finally:
        launch.kill()
        launch.finish()


def test_a_sandbox_whose_bwrap_was_orphaned_is_swept(tmp_path):
    """bwrap binds its life to its parent after it started: if that parent died in
    between, init adopts it. Made here for sure: bwrap is exec'd by a subshell
    whose parent has exited. The sweep (each app check) kills it, and with it
    the whole sandbox."""
    sandbox, _conf = _sandbox(tmp_path)
    box = _box(tmp_path)
    sandbox.hand_over(box, UID)
    launch = sandbox.launch(_job(box, ['sleep', '30']))
    try:
        subprocess.run(['/bin/sh', '-c', '(sleep 0.3; exec "$@") &', 'orphan'] + launch.argv,
                       env=launch.env, pass_fds=launch.pass_fds, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        launch.close_child_fds()
        pushenv.wait_for(lambda: helpers_sb.processes_of(UID), timeout=5,
                         what='the orphaned sandbox to run')
        killed = process.kill_orphaned_sandboxes()
        assert killed, 'the orphaned bwrap was not found'
        assert helpers_sb.no_processes_left(UID), 'the sandbox goes with its bwrap'
    finally:
        launch.finish()


def test_a_sandbox_that_fails_to_set_up_is_unavailable_and_runs_nothing(tmp_path):
    sandbox, _conf = _sandbox(tmp_path)
    box = _box(tmp_path)
    sandbox.hand_over(box, UID)
    marker = pathlib.Path(box) / 'src' / 'ran'
    job = _job(box, ['touch', str(marker)])
    job.cwd = 'no-such-dir'  # bwrap cannot chdir there: its setup fails
    spawner = process.Spawner()
    log = pipeline_base.RunLog(str(tmp_path / 'log'), 4096)
    try:
        with pytest.raises(base.Unavailable, match=r"bwrap: Can't chdir.*apt-get install "
                                                   r"bubblewrap.*driver = none"):
            process.run_confined(sandbox, job, spawner, log, 10, threading.Event(), 1.0)
    finally:
        spawner.close()
    assert not marker.exists()


def test_a_project_uid_that_became_a_host_users_is_refused(tmp_path):
    sandbox, _conf = _sandbox(tmp_path)
    box = _box(tmp_path)
    job = _job(box, ['true'])
    job.uid = 0
    with pytest.raises(base.Unavailable, match='uid 0 now belongs to the host user root'):
        sandbox.launch(job)


def test_a_missing_bwrap_makes_the_run_error_with_how_to_fix_it(tmp_path):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          sandbox={'bwrap_path': '/nonexistent/bwrap'}).start()
    marker = tmp_path / 'ran'
    try:
        client, uri = helpers_sb.push_local(env, tmp_path, 'p-closed', {'x': 'x'},
                                            {'test_cmd': 'touch %s' % marker,
                                             'run_cmd': 'touch %s' % marker})
        run = helpers_sb.finished(client, uri)
    finally:
        env.stop()
    assert run['status'] == 'ERROR', run
    reason = run['status_reason']
    assert '/nonexistent/bwrap (from bubblewrap) not found ([sandbox] bwrap_path)' in reason
    assert 'apt-get install bubblewrap' in reason and 'driver = none' in reason
    assert reason in run['log']
    assert 'checking out' not in run['log'], 'nothing is fetched for a run that cannot run'
    assert not marker.exists()


def test_driver_none_runs_unconfined_only_because_the_operator_said_so(tmp_path):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          sandbox={'driver': 'none'}).start()
    try:
        client, uri = helpers_sb.push_local(env, tmp_path, 'p-trusted', {'x': 'x'},
                                            {'test_cmd': 'id -u; echo "home=$HOME"'})
        run = helpers_sb.finished(client, uri)
    finally:
        env.stop()
    assert run['status'] == 'SUCCESS', run['log']
    assert 'no sandbox ([sandbox] driver = none)' in run['log']
    assert '\n%d\n' % os.geteuid() in run['log']
    assert re.search(r'home=\S+/runs/%s/box/home' % run['uuid'], run['log'])


def _app_env(tmp_path, **groups):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          **groups).start()
    client, uri = helpers_sb.push_local(
        env, tmp_path, 'p-app', {'app.py': test_push_local.APP, 'version.txt': 'up'},
        {'run_cmd': 'exec python3 app.py'})
    run = helpers_sb.finished(client, uri)
    assert run['status'] == 'SUCCESS', run['log']
    return env, run


def _app_processes(uid):
    return [p for p in helpers_sb.processes_of(uid) if 'python3 app.py' in p[2]]


def test_an_app_restarted_by_its_watch_thread_serves_on_after_that_thread_ended(tmp_path):
    env, run = _app_env(tmp_path)
    try:
        app = next(iter(env.engine.workers[0].drivers['local'].apps.values()))
        name = 'solum-git-app-%s' % run['uuid'][:8]
        watchers = [t for t in threading.enumerate() if t.name == name]
        assert len(watchers) == 1
        first = app.proc.pid
        os.kill(first, signal.SIGKILL)
        # the watcher restarts the app, then returns: the thread is gone
        watchers[0].join(20)
        assert not watchers[0].is_alive()
        pushenv.wait_for(lambda: app.proc.pid != first
                         and demo_app.answer(run['app_url']) == 'up',
                         timeout=20, what='the app restarted')
        time.sleep(1.5)
        assert app.alive(), 'the restarted app died with the thread that restarted it'
        assert demo_app.answer(run['app_url']) == 'up'
        uid = helpers_sb.sandbox_uid(env, 'p-app')
        assert _app_processes(uid), 'the restarted app runs sandboxed, as the project'
    finally:
        env.stop()
    assert helpers_sb.no_processes_left(uid)


def test_an_app_restored_after_an_engine_restart_runs_sandboxed(tmp_path):
    env, run = _app_env(tmp_path, pipelines={'app_check_interval': 0.2})
    try:
        uid = helpers_sb.sandbox_uid(env, 'p-app')
        assert _app_processes(uid)
        env.engine.stop()
        assert helpers_sb.no_processes_left(uid)
        env.engine = engine_service.Engine(env.conf, env.db, env.servers,
                                           [run_worker.RunWorker])
        env.engine.start()
        pushenv.wait_for(lambda: demo_app.answer(run['app_url']) == 'up',
                         timeout=20, what='the app restored')
        assert _app_processes(uid), 'restored as the project\'s uid'
        state_file = pathlib.Path(env.conf.state_path) / 'apps' / (
            '%s.json' % run['trigger_uuid'])
        state = json.loads(state_file.read_text())
        assert state['uid'] == uid and state['sandbox_pid']
        log = (pathlib.Path(env.conf.state_path) / 'runs' / run['uuid'] / 'app.log')
        assert 'restoring the app of run %s' % run['uuid'] in log.read_text()
    finally:
        env.stop()
    assert helpers_sb.no_processes_left(uid)


NON_ROOT = r'''
import json, os, sys, threading
from solum_git import conf as conf_pkg, sandboxes
from solum_git.pipelines import base as pb, process
from solum_git.sandboxes import base
top = sys.argv[1]
conf = conf_pkg.new()
conf([], project='solum-git', default_config_files=[])
conf.set_override('state_path', os.path.join(top, 'state'))
sandbox = sandboxes.load('bwrap', conf)
box = os.path.join(top, 'state', 'runs', 'r1', 'box')
os.makedirs(os.path.join(box, 'src'))
os.makedirs(os.path.join(box, 'home'))
with open(os.path.join(top, 'state', 'secret'), 'w') as f:
    f.write('SERVICE-SECRET')
script = """
id -u
cat %s/state/secret || echo "secret hidden"
cat /etc/shadow || echo "shadow denied"
ls / | tr '\\n' ' '; echo
i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i + 1)); done; wait; echo "forked 40"
(i=0; while [ $i -lt 80 ]; do sleep 5 & i=$((i + 1)); done; wait) || echo "80 refused"
""" % top
job = base.Job('t', ['/bin/sh', '-c', script], box, {}, 0, network=False,
               limits=base.Limits(max_processes=60, memory_mb=512))
log = pb.RunLog(os.path.join(top, 'log'), 65536)
spawner = process.Spawner()
code = process.run_confined(sandbox, job, spawner, log, 30, threading.Event(), 1.0)
first = job
# a dir the command makes unreadable still counts towards its disk limit
hide = ('mkdir d && dd if=/dev/zero of=d/f bs=1M count=16 2>/dev/null && chmod 000 d '
        '&& sleep 20')
job = base.Job('t', ['/bin/sh', '-c', hide], box, {}, 0, network=False,
               limits=base.Limits(max_disk_mb=8))
try:
    process.run_confined(sandbox, job, spawner, pb.RunLog(os.path.join(top, 'log2'), 4096),
                         30, threading.Event(), 0.2)
    disk = 'not stopped'
except process.Stopped as e:
    disk = str(e)
spawner.close()
print(json.dumps({'code': code, 'log': log.text(), 'describe': sandbox.describe(first),
                  'disk': disk}))
'''


def test_as_an_ordinary_user_the_sandbox_is_a_user_namespace_with_the_same_view(tmp_path):
    """The service's own uid inside (no switch possible), the same mount view, and a
    process limit per run (the service's own 60 processes do not count)."""
    with gitserver.stacks_dir() as top:
        user = gitserver.UnprivilegedApi.__new__(gitserver.UnprivilegedApi)
        server = user  # only its user and its way to launch python as that user
        import pwd
        try:
            pwd.getpwnam(server.USER)
            server.created_user = False
        except KeyError:
            subprocess.run(['useradd', '--system', '--user-group', '--shell', '/bin/sh',
                            '--home-dir', '/', '--no-create-home', server.USER], check=True)
            server.created_user = True
        entry = pwd.getpwnam(server.USER)
        server.uid, server.gid = entry.pw_uid, entry.pw_gid
        import solum_git
        server.opened = []
        for target in (gitserver._venv_site(),
                       os.path.dirname(os.path.dirname(solum_git.__file__))):
            server.opened += gitserver._allow_traverse(target)
        os.chown(top, server.uid, server.gid)
        # the service user's own processes: an RLIMIT_NPROC per uid would count them
        busy = [subprocess.Popen(['setpriv', '--reuid=%d' % server.uid,
                                  '--regid=%d' % server.gid, '--clear-groups',
                                  'sleep', '60']) for _ in range(60)]
        try:
            argv = server.argv('api')
            argv[argv.index('-c') + 1] = ('import site; site.addsitedir(%r)\n'
                                          % gitserver._venv_site()) + NON_ROOT
            done = subprocess.run(argv + [top], capture_output=True, text=True, timeout=60)
        finally:
            for proc in busy:
                proc.kill()
                proc.wait()
            server.remove_user()
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    log = out['log']
    assert out['code'] == 0, log
    assert log.splitlines()[0] == str(server.uid)
    assert 'secret hidden' in log and 'SERVICE-SECRET' not in log
    assert 'shadow denied' in log
    listing = next(line for line in log.splitlines() if line.startswith('bin '))
    assert 'state' not in listing and 'work' in listing.split()
    assert 'forked 40' in log and '80 refused' in log
    assert 'more than [sandbox] max_disk_mb = 8; killed' in out['disk'], out['disk']
    assert 'the service\'s uid %d (not root: no uid switch)' % server.uid in out['describe']
    assert 'of address space per process' in out['describe']


@pytest.fixture
def system_dir():
    """A directory outside /tmp (the sandbox has its own) that all may read."""
    path = tempfile.mkdtemp(prefix='sg-system-', dir='/var/tmp')
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def test_the_services_config_is_hidden_even_under_a_read_only_path(tmp_path, system_dir):
    system = system_dir
    (system / 'solum-git').mkdir(parents=True)
    config = system / 'solum-git' / 'solum-git.conf'
    config.write_text('[DEFAULT]\n# SERVICE-CONFIG\n')
    (system / 'tool').write_text('visible\n')
    secret = system / 'secret.key'
    secret.write_text('HIDDEN-BY-OPERATOR\n')
    from solum_git import conf as conf_pkg
    conf = conf_pkg.new()
    conf(['--config-file', str(config)], project='solum-git', default_config_files=[])
    conf.set_override('state_path', str(tmp_path / 'state'))
    conf.set_override('ro_paths', ['/usr', '/etc', str(system)], group='sandbox')
    conf.set_override('hide_paths', [str(secret)], group='sandbox')
    sandbox = sandboxes.load('bwrap', conf)
    box = _box(tmp_path / 'run')
    sandbox.hand_over(box, UID)
    script = 'cat %s/tool; cat %s; ls -A %s/solum-git; cat %s; echo end' % (
        system, config, system, secret)
    spawner = process.Spawner()
    log = pipeline_base.RunLog(str(tmp_path / 'log'), 4096)
    try:
        code = process.run_confined(sandbox, _job(box, ['/bin/sh', '-c', script]), spawner,
                                    log, 30, threading.Event(), 1.0)
    finally:
        spawner.close()
    text = log.text()
    assert code == 0, text
    assert 'visible' in text and 'end' in text
    assert 'SERVICE-CONFIG' not in text and 'HIDDEN-BY-OPERATOR' not in text, text


def test_manage_sandbox_check_runs_a_real_command_and_says_how_to_fix_a_failure(tmp_path):
    manage = os.path.join(helpers.VENV_BIN, 'solum-git-manage')
    good = helpers.write_config(tmp_path / 'good.conf', {
        'DEFAULT': {'state_path': tmp_path / 'state'}})
    done = subprocess.run([manage, '--config-file', str(good), 'sandbox', 'check'],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith('OK: sandbox bwrap: ')
    assert os.listdir(tmp_path / 'state') == [], 'the check leaves nothing behind'
    bad = helpers.write_config(tmp_path / 'bad.conf', {
        'DEFAULT': {'state_path': tmp_path / 'state'},
        'sandbox': {'prlimit_path': '/nonexistent/prlimit'}})
    done = subprocess.run([manage, '--config-file', str(bad), 'sandbox', 'check'],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert 'FAILED: the sandbox cannot start: /nonexistent/prlimit (from util-linux) not ' \
        'found ([sandbox] prlimit_path)' in done.stdout
    assert 'apt-get install bubblewrap util-linux' in done.stdout


def test_a_redelivered_run_checks_out_into_a_fresh_box_never_the_tenants_old_one(
        tmp_path):
    """The first execution plants a post-checkout hook and core.fsmonitor in its
    .git: solum-git's git (as root) must never run in that repo again."""
    marker = '/tmp/sg-pwned-%s' % os.urandom(4).hex()
    plant = ('printf "#!/bin/sh\\ntouch %s-hook\\n" > .git/hooks/post-checkout && '
             'chmod +x .git/hooks/post-checkout && '
             'git config core.fsmonitor "touch %s-fsmonitor" && echo planted'
             % (marker, marker))
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite')).start()
    try:
        client, uri = helpers_sb.push_local(
            env, tmp_path, 'p-redeliver',
            {'app.py': test_push_local.APP, 'version.txt': 'up'},
            {'test_cmd': plant, 'run_cmd': 'exec python3 app.py'})
        first = helpers_sb.finished(client, uri)
        assert first['status'] == 'SUCCESS' and 'planted' in first['log'], first['log']
        r = client.post(uri + '/actions', json={'action': 'redeliver'})
        assert r.status_code == 202, r.text
        assert r.json()['status'] == 'QUEUED'
        again = helpers_sb.finished(client, uri)
        run_dir = pathlib.Path(env.conf.state_path) / 'runs' / first['uuid']
        boxes = sorted(p.name for p in run_dir.iterdir() if p.name.startswith('box'))
        answer = demo_app.answer(again['app_url'])
    finally:
        env.stop()
    assert again['status'] == 'SUCCESS', again['log']
    assert not os.path.exists(marker + '-hook') and not os.path.exists(marker + '-fsmonitor')
    # the first app served from "box" until the new one listened: the new one got its own
    assert boxes == ['box', 'box-2'], boxes
    assert answer == 'up'


def test_the_cgroup_sweep_spares_a_fresh_empty_cgroup_of_another_engine():
    from solum_git.sandboxes import cgroups
    hierarchy = cgroups.Hierarchy('/sys/fs/cgroup')
    assert hierarchy.available()
    group = hierarchy.create(64 * base.MIB, 10)
    try:
        hierarchy.sweep()
        assert all(os.path.isdir(path) for path in group.dirs.values())
        hierarchy.sweep(min_age=-1)
        assert not any(os.path.isdir(path) for path in group.dirs.values())
    finally:
        group.remove(timeout=0)


def test_an_app_deployed_before_the_sandbox_is_moved_into_a_box_and_restored_sandboxed(
        tmp_path):
    env, run = _app_env(tmp_path, pipelines={'app_check_interval': 0.2})
    try:
        uid = helpers_sb.sandbox_uid(env, 'p-app')
        env.engine.stop()
        # what the previous release left: runs/<run>/src, a state without box or uid
        work_dir = pathlib.Path(env.conf.state_path) / 'runs' / run['uuid']
        shutil.move(str(work_dir / 'box' / 'src'), str(work_dir / 'src'))
        shutil.rmtree(str(work_dir / 'box'))
        subprocess.run(['chown', '-R', '0:0', str(work_dir / 'src')], check=True)
        state_file = pathlib.Path(env.conf.state_path) / 'apps' / (
            '%s.json' % run['trigger_uuid'])
        state = json.loads(state_file.read_text())
        legacy = {k: state[k] for k in ('pid', 'port', 'run_uuid', 'work_dir', 'command',
                                        'env')}
        legacy['cwd'] = str(work_dir / 'src')
        state_file.write_text(json.dumps(legacy))
        env.engine = engine_service.Engine(env.conf, env.db, env.servers,
                                           [run_worker.RunWorker])
        env.engine.start()
        pushenv.wait_for(lambda: demo_app.answer(run['app_url']) == 'up',
                         timeout=20, what='the old app restored')
        assert _app_processes(uid), 'restored as the project\'s uid, sandboxed'
        assert (work_dir / 'box' / 'src' / 'app.py').exists()
        assert not (work_dir / 'src').exists()
        assert os.stat(str(work_dir / 'box' / 'src' / 'app.py')).st_uid == uid
    finally:
        env.stop()
    assert helpers_sb.no_processes_left(uid)
