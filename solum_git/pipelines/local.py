"""The built-in local runner: check out, test_cmd, then swap the app to the new run.

Each run gets ``$state_path/runs/<run uuid>/``: ``log``, ``app.log`` and
``trigger`` (the service's), and ``box/`` (``src/`` checkout, ``home/``), the
only thing its commands see and may write, handed to the project's sandbox uid
once solum-git's own git has checked it out. ``test_cmd`` and ``run_cmd`` run
only through the configured sandbox driver (``[sandbox] driver``); if it
cannot start, the run is ERROR and nothing runs.

The new app starts on a free ``$PORT`` while the previous one still serves; only
once it listens is the previous one stopped (failing tests or an app that never
listens leave the previous app serving). Apps are this engine's children: it
reaps and restarts them, and stops them all when it stops.
"""
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import Any, Mapping, Optional, Sequence, Tuple

from oslo_config import cfg

from solum_git.common import applog
from solum_git.common import secretbox
from solum_git.common import states
from solum_git.pipelines import base
from solum_git.pipelines import health
from solum_git.pipelines import process
from solum_git.pipelines import source as source_mod
from solum_git import sandboxes
from solum_git.sandboxes import base as sandbox_base

LOG = logging.getLogger(__name__)
RunStatus = states.RunStatus

RESTART_LIMIT = 5


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _listening(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class App:
    """One running ``run_cmd`` in its sandbox, watched (disk) and restarted by a thread."""

    def __init__(self, runner: 'LocalRunner', trigger_uuid: str, run_uuid: str, command: str,
                 work_dir: str, box: str, env: Mapping[str, str], port: int, uid: int,
                 keep_log: bool = False, secret_names: Sequence[str] = ()):
        self.runner = runner
        self.trigger_uuid = trigger_uuid
        self.run_uuid = run_uuid
        self.command = command
        self.work_dir = work_dir
        self.box = box
        self.env = env
        self.port = port
        self.uid = uid
        self.log = base.RunLog(os.path.join(work_dir, applog.NAME),
                               runner.conf.pipelines.app_log_bytes, keep=keep_log,
                               rotate=True)
        self.secret_names = list(secret_names)
        self.log.mask(env[name] for name in self.secret_names if name in env)
        self.confined: Optional[process.Confined] = None
        self.stopped = threading.Event()
        self.ended = threading.Event()  # the current process has exited and is reaped
        self.restarts = 0
        # why it cannot run at all (no sandbox, out of disk): never restarted then
        self.failure = None

    @property
    def proc(self) -> Optional[subprocess.Popen]:
        return self.confined.proc if self.confined is not None else None

    def job(self) -> sandbox_base.Job:
        return sandbox_base.Job('app-%s' % self.run_uuid[:8], ['/bin/sh', '-c', self.command],
                                self.box, self.env, self.uid,
                                network=True, limits=sandbox_base.Limits.from_conf(
                                    self.runner.conf.sandbox, app=True))

    def start(self) -> None:
        """Start (again); raises sandbox Unavailable. The process comes from the
        runner's spawner thread, so it outlives whichever thread calls this."""
        confined = process.Confined(self.runner.sandbox, self.job(), self.runner.spawner,
                                    self.log, self.runner.conf.sandbox.disk_check_interval)
        self.ended.clear()
        confined.start()
        self.confined = confined
        threading.Thread(target=self._watch, args=(confined,), daemon=True,
                         name='solum-git-app-%s' % self.run_uuid[:8]).start()

    def _wait(self, confined):
        """The exit code, or None if the app went over its disk limit (killed)."""
        interval = min(self.runner.conf.sandbox.disk_check_interval, 1.0)
        while True:
            try:
                return confined.wait(interval)
            except subprocess.TimeoutExpired:
                if not self.stopped.is_set() and confined.over_disk():
                    self.failure = 'the app %s' % confined.disk_message()
                    self.log.note(self.failure)
                    confined.kill()
                    confined.proc.wait()
                    return None

    def _watch(self, confined):
        code = self._wait(confined)
        ran, notes = confined.finish()
        for note in notes:
            self.log.note(note)
        if not ran and not notes and not self.stopped.is_set():
            self.failure = 'the sandbox could not start (%s); %s' % (
                process.unavailable_reason(self.log.text()[-4000:]),
                sandbox_base.HOW_TO_FIX)
            self.log.note(self.failure)
        self.ended.set()
        if self.stopped.is_set() or self.failure:
            return
        self.log.note('app exited with %s' % code)
        if self.restarts >= RESTART_LIMIT:
            self.log.note('app not restarted: it exited %d times' % self.restarts)
            return
        self.restarts += 1
        # a crash loop must not spin
        if self.stopped.wait(min(2 ** self.restarts, 30)):
            return
        self.log.note('restarting the app (%d of %d)' % (self.restarts, RESTART_LIMIT))
        try:
            self.start()
        except (sandbox_base.Unavailable, process.Stopped) as e:
            self.failure = str(e)
            self.log.note('app not restarted: %s' % e)

    def alive(self) -> bool:
        return self.confined is not None and self.confined.alive()

    def stop(self) -> None:
        self.stopped.set()
        if self.confined is not None:
            self.confined.kill()

    def state(self) -> dict[str, Any]:
        """What another engine process needs to stop it, or a restarted one to restore
        it: the env without the trigger's secrets, those sealed (``secrets``)."""
        launch = self.confined.launch if self.confined is not None else None
        proc = self.proc
        secret = {name: self.env[name] for name in self.secret_names if name in self.env}
        sealed = {}
        if secret:
            box = secretbox.SecretBox(self.runner.conf)
            sealed = {name: box.seal(value) for name, value in secret.items()}
        return {'pid': proc.pid if proc is not None else None,
                'sandbox_pid': getattr(launch, 'sandbox_pid', None),
                'port': self.port, 'run_uuid': self.run_uuid, 'work_dir': self.work_dir,
                'box': self.box, 'command': self.command, 'uid': self.uid,
                'env': {k: v for k, v in self.env.items() if k not in secret},
                'secrets': sealed, 'secret_names': self.secret_names}


class LocalRunner(base.Pipeline):
    name = 'local'
    serial_per_trigger = True
    needs_source = True
    sandboxed = True
    keeps_work_dir = True
    runs_apps = True

    @classmethod
    def max_attempts(cls, opts: Any) -> int:
        # a deploy is not redone behind the tenant's back beyond max_attempts
        return opts.max_attempts

    def __init__(self, conf: cfg.ConfigOpts):
        super().__init__(conf)
        self.apps: dict[str, App] = {}
        self._lock = threading.Lock()
        self.apps_dir = os.path.join(conf.state_path, 'apps')
        self.sandbox = sandboxes.load(conf.sandbox.driver, conf)
        self.spawner = process.Spawner()

    # -- one run

    def execute(self, spec: base.RunSpec) -> base.Result:
        opts = self.conf.pipelines
        deadline = time.monotonic() + opts.run_timeout
        log = spec.log
        with open(os.path.join(spec.work_dir, 'trigger'), 'w') as f:
            f.write(spec.trigger['uuid'])  # lets _prune find this trigger's runs
        try:
            # nothing is fetched for a run that could not be confined
            self.sandbox.check()
            if spec.sandbox_uid is None:
                raise sandbox_base.Unavailable('no sandbox uid was given for project %s'
                                               % spec.repo.get('project_id'))
            box = self._fresh_box(spec.work_dir)
            env = run_env(spec)
            if spec.rollback is not None:
                return self._redeploy(spec, box, env)
            src, home = sandbox_base.box_paths(box)
            log.note('checking out %s (%s)' % (spec.commit[:12], spec.ref))
            spec.source.checkout(src, spec.ref, spec.commit, log, opts.run_timeout,
                                 spec.stopping)
            os.makedirs(home, exist_ok=True)
            # checked out by solum-git's own git; from here on the project's
            self.sandbox.hand_over(box, spec.sandbox_uid)
            test_cmd = spec.config.get('test_cmd')
            if test_cmd:
                job = sandbox_base.Job(
                    'test-%s' % spec.uuid[:8], ['/bin/sh', '-c', test_cmd], box, env,
                    spec.sandbox_uid, network=self.conf.sandbox.test_network,
                    limits=sandbox_base.Limits.from_conf(self.conf.sandbox))
                log.note('test_cmd: %s' % test_cmd)
                log.note(self.sandbox.describe(job))
                code = process.run_confined(
                    self.sandbox, job, self.spawner, log,
                    max(deadline - time.monotonic(), 1), spec.stopping,
                    self.conf.sandbox.disk_check_interval)
                if code != 0:
                    log.note('test_cmd exited with %d%s' % (code, _signal_hint(code)))
                    return base.Result(RunStatus.FAILED, 'test_cmd exited with %d; the '
                                       'previous app (if any) keeps running' % code)
                log.note('test_cmd passed')
        except source_mod.FetchError as e:
            log.note(str(e))
            return base.Result(RunStatus.ERROR, str(e))
        except sandbox_base.Unavailable as e:
            log.note(str(e))
            return base.Result(RunStatus.ERROR, str(e))
        except process.Stopped as e:
            log.note(str(e))
            return base.Result(RunStatus.FAILED if e.failed else RunStatus.ERROR,
                               'test_cmd %s' % e)
        run_cmd = spec.config.get('run_cmd')
        if not run_cmd:
            return base.Result(RunStatus.SUCCESS, 'tests passed' if spec.config.get('test_cmd')
                               else 'checked out (the trigger has no test_cmd or run_cmd)')
        return self._deploy(spec, run_cmd, box, env)

    def _redeploy(self, spec, box, env):
        """A rollback: the target release's build (as its tests left it) copied into
        this run's box and started, with no checkout and no tests."""
        target = spec.rollback
        what = 'release %s (run %s)' % (target.get('release'), target['run_uuid'])
        built = _built_box(os.path.join(os.path.dirname(spec.work_dir), target['run_uuid']),
                           spec.trigger['uuid'])
        if built is None:
            spec.log.note('the build of %s is no longer kept on disk' % what)
            return base.Result(RunStatus.ERROR, 'the build of %s is no longer kept '
                               '([pipelines] keep_runs builds per trigger); push its '
                               'commit again instead' % what)
        run_cmd = spec.config.get('run_cmd')
        if not run_cmd:
            return base.Result(RunStatus.ERROR, 'the trigger has no run_cmd to redeploy')
        spec.log.note('%s %s: commit %s, its build as tested, not tested again' % (
            'redeploying' if target.get('serving') else 'rolling back to', what,
            target['commit'][:12]))
        os.rmdir(box)
        # cp -a: symlinks and fifos of the tenant's tree are copied, never followed
        code = process.run(['cp', '-a', '--no-dereference', built, box], None,
                           process.clean_env(), spec.log, self.conf.pipelines.run_timeout,
                           spec.stopping)
        if code != 0:
            return base.Result(RunStatus.ERROR, 'cannot copy the build of %s' % what)
        self.sandbox.hand_over(box, spec.sandbox_uid)
        result = self._deploy(spec, run_cmd, box, env)
        if result.status == RunStatus.SUCCESS:
            result.reason = ('redeployed %s with config version %s' % (
                what, spec.trigger.get('config_version')) if target.get('serving')
                else 'rolled back to %s' % what)
        return result

    def _fresh_box(self, work_dir):
        """A new box for this execution of the run. solum-git's git never works in
        one a tenant had (its .git/config could run commands as us): a redelivered
        run's earlier box goes, or stays aside while its app still serves from it.
        """
        serving = self._serving_boxes()
        names = sorted(n for n in os.listdir(work_dir) if n.startswith('box'))
        for name in names:
            if os.path.join(work_dir, name) not in serving:
                shutil.rmtree(os.path.join(work_dir, name))
        n = 1
        box = os.path.join(work_dir, 'box')
        while os.path.exists(box):
            n += 1
            box = os.path.join(work_dir, 'box-%d' % n)
        os.mkdir(box, 0o700)
        return box

    def _serving_boxes(self):
        """Boxes apps serve from: this process's, and other engine processes'."""
        with self._lock:
            boxes = {app.box for app in self.apps.values()}
        try:
            names = os.listdir(self.apps_dir)
        except FileNotFoundError:
            return boxes
        for name in names:
            if name.endswith('.json'):
                try:
                    with open(os.path.join(self.apps_dir, name)) as f:
                        boxes.add(_state_box(json.load(f)))
                except (OSError, ValueError, AttributeError):
                    continue
        return boxes

    def _deploy(self, spec, run_cmd, box, env):
        opts = self.conf.pipelines
        host = opts.app_host
        port = free_port(host)
        app = App(self, spec.trigger['uuid'], spec.uuid, run_cmd, spec.work_dir, box,
                  dict(env, PORT=str(port)), port, spec.sandbox_uid,
                  secret_names=sorted(spec.secrets))
        spec.log.note('run_cmd on PORT=%d: %s' % (port, run_cmd))
        spec.log.note(self.sandbox.describe(app.job()))
        try:
            app.start()
        except sandbox_base.Unavailable as e:
            spec.log.note(str(e))
            return base.Result(RunStatus.ERROR, str(e))
        deadline = time.monotonic() + opts.app_start_timeout
        while not _listening(host, port):
            if not app.alive() or time.monotonic() > deadline or spec.stopping.is_set():
                app.stop()
                app.ended.wait(5)
                if app.failure:
                    spec.log.note(app.failure)
                    return base.Result(RunStatus.ERROR, app.failure)
                code = app.proc.returncode
                why = ('exited with %s' % code if code is not None
                       and not spec.stopping.is_set()
                       else 'did not listen on $PORT in %d s' % opts.app_start_timeout)
                spec.log.note('the new app %s; its output:' % why)
                spec.log.write(app.log.text()[-4000:])
                return base.Result(RunStatus.FAILED, 'run_cmd %s; the previous app (if any) '
                                   'keeps running' % why)
            time.sleep(0.05)
        unhealthy = self._health_check(spec, app, host, port)
        if unhealthy:
            app.stop()
            app.ended.wait(5)
            spec.log.note('the new app failed its health check: %s; its output:' % unhealthy)
            spec.log.write(app.log.text()[-4000:])
            return base.Result(RunStatus.FAILED, 'health check failed: %s; the previous app '
                               '(if any) keeps serving' % unhealthy)
        previous = self._swap(spec.trigger['uuid'], app)
        if previous is not None:
            spec.log.note('stopping the previous app (run %s)' % previous.get('run_uuid'))
            self._stop_previous(previous)
        spec.log.note('app listening on port %d' % port)
        self._prune(spec)
        url = 'http://%s:%d/' % ('[%s]' % host if ':' in host else host, port)
        return base.Result(RunStatus.SUCCESS, 'deployed', app_url=url)

    def _health_check(self, spec, app, host, port):
        """None once GET config.health_path answers 2xx/3xx, else why not."""
        path = spec.config.get('health_path')
        if not path:
            return None
        timeout = spec.config.get('health_timeout') or self.conf.pipelines.app_start_timeout
        spec.log.note('health check: GET %s within %s s' % (path, timeout))
        deadline = time.monotonic() + timeout
        last = 'no answer'
        while True:
            if not app.alive():
                return 'the app exited (last check: %s)' % last
            status = health.probe(host, port, path, min(5.0, timeout))
            if status is not None and 200 <= status < 400:
                spec.log.note('health check: GET %s answered %d' % (path, status))
                return None
            if status is not None:
                last = 'GET %s answered %d' % (path, status)
            if time.monotonic() > deadline or spec.stopping.is_set():
                return '%s (no 2xx/3xx within %s s)' % (last, timeout)
            time.sleep(0.2)

    # -- the app of each trigger

    def _state_path(self, trigger_uuid):
        return os.path.join(self.apps_dir, '%s.json' % trigger_uuid)

    def _swap(self, trigger_uuid, app):
        """Make ``app`` the trigger's app; return what served before (or None)."""
        with self._lock:
            old = self.apps.pop(trigger_uuid, None)
            previous = None
            path = self._state_path(trigger_uuid)
            if old is not None:
                previous = dict(old.state(), app=old)
            else:
                try:
                    with open(path) as f:
                        previous = json.load(f)  # started by another engine process
                except (OSError, ValueError):
                    previous = None
            self.apps[trigger_uuid] = app
            self._save(app)
            return previous

    def _save(self, app):
        os.makedirs(self.apps_dir, mode=0o700, exist_ok=True)
        os.chmod(self.apps_dir, 0o700)  # no tenant uid lists or reads it, whatever made it
        path = self._state_path(app.trigger_uuid)
        fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            json.dump(app.state(), f)
        os.replace(path + '.tmp', path)

    def reconcile(self, live_triggers: Mapping[str, int]) -> None:
        """Stop the apps of deleted triggers; start again, in their work dirs and on
        their ports, the apps of live triggers that no process serves (after an
        engine restart). The run worker calls this now and then, with
        ``{trigger uuid: the sandbox uid of its project}``.
        """
        for pid in process.kill_orphaned_sandboxes(
                os.path.basename(self.conf.sandbox.bwrap_path)):
            LOG.warning('killed sandbox %d: its engine died while starting it', pid)
        with self._lock:
            for trigger_uuid in [t for t in self.apps if t not in live_triggers]:
                self.apps.pop(trigger_uuid).stop()
                _unlink(self._state_path(trigger_uuid))
            try:
                names = sorted(os.listdir(self.apps_dir))
            except FileNotFoundError:
                return
            for name in names:
                trigger_uuid = name[:-len('.json')]
                if not name.endswith('.json') or trigger_uuid in self.apps:
                    continue
                with _locked(self._state_path(trigger_uuid) + '.lock'):
                    self._reconcile_one(trigger_uuid, live_triggers.get(trigger_uuid))

    def _reconcile_one(self, trigger_uuid, uid):
        path = self._state_path(trigger_uuid)
        try:
            with open(path) as f:
                state = json.load(f)
            running = _is_run_process(state['pid'], state['run_uuid'])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if uid is None:
            if running:
                _kill_app(state)
            _unlink(path)
            return
        # served by another engine process on this machine, or nothing to restore
        if running or 'command' not in state or not _has_box(state):
            return
        try:
            # a state written before the secrets were sealed has them in env
            env = dict(state['env'], **secretbox.open_all(self.conf, state.get('secrets')))
        except (secretbox.NoKey, secretbox.Undecryptable) as e:
            LOG.warning('app of trigger %s not restored: config.secrets: %s', trigger_uuid, e)
            return
        app = App(self, trigger_uuid, state['run_uuid'], state['command'],
                  state['work_dir'], _state_box(state), env, state['port'], uid,
                  keep_log=True, secret_names=state.get('secret_names') or ())
        app.log.note('restoring the app of run %s on port %d' % (app.run_uuid, app.port))
        self.sandbox.hand_over(app.box, uid)
        try:
            app.start()
        except (sandbox_base.Unavailable, process.Stopped) as e:
            app.log.note('not restored: %s' % e)
            LOG.warning('app of trigger %s not restored: %s', trigger_uuid, e)
            return
        self.apps[trigger_uuid] = app
        self._save(app)

    def _stop_previous(self, previous):
        app = previous.get('app')
        if app is not None:
            app.stop()
            return
        _kill_app(previous)

    def _prune(self, spec):
        """Keep the newest work dirs of this trigger, and always the serving one."""
        runs_dir = os.path.dirname(spec.work_dir)
        serving = {os.path.basename(a.work_dir) for a in self.apps.values()}
        mine = []
        for name in os.listdir(runs_dir):
            marker = os.path.join(runs_dir, name, 'trigger')
            try:
                with open(marker) as f:
                    if f.read().strip() == spec.trigger['uuid']:
                        mine.append((os.path.getmtime(marker), name))
            except OSError:
                continue
        mine.sort(reverse=True)
        for _mtime, name in mine[self.conf.pipelines.keep_runs:]:
            if name not in serving and name != spec.uuid:
                shutil.rmtree(os.path.join(runs_dir, name), ignore_errors=True)

    def close(self) -> None:
        """Stop every app; their state stays, so the next engine start restores them."""
        with self._lock:
            apps, self.apps = list(self.apps.values()), {}
        for app in apps:
            app.stop()
        for app in apps:
            app.ended.wait(5)
        self.spawner.close()


def run_env(spec: base.RunSpec) -> dict[str, str]:
    """What test_cmd and run_cmd see: config.env, config.secrets, then ours."""
    env = dict(spec.config.get('env') or {})
    env.update(spec.secrets)
    env.update({'SOLUM_GIT_RUN': spec.uuid, 'SOLUM_GIT_COMMIT': spec.commit,
                'SOLUM_GIT_REF': spec.ref, 'SOLUM_GIT_REPO': spec.repo['name']})
    return process.clean_env(env)


def _signal_hint(code):
    """What a shell's 128+N exit code says about the limit that stopped it."""
    hints = {128 + signal.SIGXCPU: ' (SIGXCPU: CPU time limit, [sandbox] cpu_seconds)',
             128 + signal.SIGXFSZ: ' (SIGXFSZ: file size limit, [sandbox] max_file_size_mb)',
             128 + signal.SIGKILL: ' (SIGKILL)'}
    return hints.get(code, '')


def _built_box(work_dir, trigger_uuid):
    """The newest box of a run of this trigger that has a checkout, or None."""
    try:
        with open(os.path.join(work_dir, 'trigger')) as f:
            if f.read().strip() != trigger_uuid:
                return None
        names = os.listdir(work_dir)
    except OSError:
        return None
    boxes = [n for n in names if n == 'box' or re.match(r'^box-\d+$', n)]
    boxes.sort(key=lambda n: int(n[4:]) if n != 'box' else 1, reverse=True)
    for name in boxes:
        if os.path.isdir(os.path.join(work_dir, name, 'src')):
            return os.path.join(work_dir, name)
    return None


def _state_box(state):
    """An app's box; apps deployed before the sandbox had none: they move into 'box'."""
    return state.get('box') or os.path.join(state['work_dir'], 'box')


def _has_box(state):
    """The app's box exists (an app deployed before the sandbox moves in)."""
    work_dir = state.get('work_dir')
    if not work_dir or not os.path.isdir(work_dir):
        return False
    box = _state_box(state)
    old_src = os.path.join(work_dir, 'src')
    if not os.path.isdir(box) and os.path.isdir(old_src):
        os.makedirs(box, mode=0o700)
        os.rename(old_src, os.path.join(box, 'src'))
        os.makedirs(os.path.join(box, 'home'), exist_ok=True)
    return os.path.isdir(os.path.join(box, 'src'))


def _kill_app(state):
    """Stop an app another engine process started: its sandbox, then its group."""
    run_uuid = state.get('run_uuid')
    for pid, kill in ((state.get('sandbox_pid'), os.kill), (state.get('pid'), os.killpg)):
        # only a process that is still that run's (pids get reused)
        if pid and _is_run_process(pid, run_uuid):
            try:
                kill(pid, signal.SIGKILL if kill is os.kill else signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass


def _is_run_process(pid, run_uuid):
    try:
        with open('/proc/%d/environ' % pid, 'rb') as f:
            return ('SOLUM_GIT_RUN=%s' % run_uuid).encode() in f.read().split(b'\0')
    except OSError:
        return False


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@contextlib.contextmanager
def _locked(path):
    """One engine process at a time restores a trigger's app."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def check_sandbox(conf: cfg.ConfigOpts) -> Tuple[bool, str]:
    """Run one tiny command the way runs do; (True, how) or (False, why and the fix)."""
    sandbox = sandboxes.load(conf.sandbox.driver, conf)
    os.makedirs(conf.state_path, mode=0o700, exist_ok=True)
    work_dir = tempfile.mkdtemp(prefix='sandbox-check-', dir=conf.state_path)
    box = os.path.join(work_dir, 'box')
    spawner = process.Spawner()
    try:
        for path in sandbox_base.box_paths(box):
            os.makedirs(path)
        # a uid no project gets before the range is nearly used up
        uid = conf.sandbox.uid_max
        sandbox.hand_over(box, uid)
        job = sandbox_base.Job('check', ['/bin/sh', '-c', 'test -w . && id -u'], box,
                               process.clean_env(), uid, network=False,
                               limits=sandbox_base.Limits.from_conf(conf.sandbox))
        log = base.RunLog(os.path.join(work_dir, 'log'), 65536)
        code = process.run_confined(sandbox, job, spawner, log, 60, threading.Event(),
                                    conf.sandbox.disk_check_interval)
        if code != 0:
            return False, 'the sandbox ran a test command that failed (%d): %s' % (
                code, log.text().strip())
        return True, sandbox.describe(job)
    except (sandbox_base.Unavailable, process.Stopped) as e:
        return False, str(e)
    finally:
        spawner.close()
        shutil.rmtree(work_dir, ignore_errors=True)
