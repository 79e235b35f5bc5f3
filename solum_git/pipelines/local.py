"""The built-in local runner: check out, test_cmd, then swap the app to the new run.

Each run gets ``$state_path/runs/<run uuid>/`` (``src/`` checkout, ``app.log``).
The new app starts on a free ``$PORT`` while the previous one still serves; only
once it listens is the previous one stopped (failing tests or an app that never
listens leave the previous app serving). Apps are this engine's children: it
reaps and restarts them, and stops them all when it stops.
"""
import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import threading
import time

from solum_git.pipelines import base
from solum_git.pipelines import process
from solum_git.pipelines import source as source_mod

RESTART_LIMIT = 5


def free_port(host):
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
    """One running ``run_cmd``: a process group of the engine, reaped by a thread."""

    def __init__(self, trigger_uuid, run_uuid, command, cwd, env, port, log_path,
                 max_log_bytes, keep_log=False):
        self.trigger_uuid = trigger_uuid
        self.run_uuid = run_uuid
        self.command = command
        self.cwd = cwd
        self.env = env
        self.port = port
        self.log = base.RunLog(log_path, max_log_bytes * 4, keep=keep_log)
        self.proc = None
        self.stopped = threading.Event()
        self.restarts = 0

    def start(self):
        self.proc = subprocess.Popen(['/bin/sh', '-c', self.command], cwd=self.cwd,
                                     env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        threading.Thread(target=process._copy, args=(self.proc.stdout, self.log),
                         daemon=True).start()
        threading.Thread(target=self._watch, args=(self.proc,), daemon=True,
                         name='solum-git-app-%s' % self.run_uuid[:8]).start()

    def _watch(self, proc):
        code = proc.wait()
        if self.stopped.is_set():
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
        self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        self.stopped.set()
        if self.proc is not None:
            process.kill_group(self.proc)

    def state(self):
        """What another engine process needs to stop it, or a restarted one to restore it."""
        return {'pid': self.proc.pid, 'port': self.port, 'run_uuid': self.run_uuid,
                'work_dir': os.path.dirname(self.cwd), 'cwd': self.cwd,
                'command': self.command, 'env': self.env}


class LocalRunner(base.Pipeline):
    name = 'local'

    def __init__(self, conf):
        super().__init__(conf)
        self.apps = {}
        self._lock = threading.Lock()
        self.apps_dir = os.path.join(conf.state_path, 'apps')

    # -- one run

    def execute(self, spec):
        opts = self.conf.pipelines
        deadline = time.monotonic() + opts.run_timeout
        src = os.path.join(spec.work_dir, 'src')
        log = spec.log
        with open(os.path.join(spec.work_dir, 'trigger'), 'w') as f:
            f.write(spec.trigger['uuid'])  # lets _prune find this trigger's runs
        try:
            log.note('checking out %s (%s)' % (spec.commit[:12], spec.ref))
            spec.source.checkout(src, spec.ref, spec.commit, log, opts.run_timeout,
                                 spec.stopping)
            env = process.clean_env({
                'SOLUM_GIT_RUN': spec.uuid, 'SOLUM_GIT_COMMIT': spec.commit,
                'SOLUM_GIT_REF': spec.ref, 'SOLUM_GIT_REPO': spec.repo['name']})
            test_cmd = spec.config.get('test_cmd')
            if test_cmd:
                log.note('test_cmd: %s' % test_cmd)
                code = process.shell(test_cmd, src, env, log,
                                     max(deadline - time.monotonic(), 1), spec.stopping)
                if code != 0:
                    log.note('test_cmd exited with %d' % code)
                    return base.Result(base.FAILED, 'test_cmd exited with %d; the '
                                       'previous app (if any) keeps running' % code)
                log.note('test_cmd passed')
        except source_mod.FetchError as e:
            log.note(str(e))
            return base.Result(base.ERROR, str(e))
        except process.Stopped as e:
            log.note(str(e))
            return base.Result(base.FAILED if 'timed out' in str(e) else base.ERROR,
                               'test_cmd %s' % e)
        run_cmd = spec.config.get('run_cmd')
        if not run_cmd:
            return base.Result(base.SUCCESS, 'tests passed' if spec.config.get('test_cmd')
                               else 'checked out (the trigger has no test_cmd or run_cmd)')
        return self._deploy(spec, run_cmd, src, env)

    def _deploy(self, spec, run_cmd, src, env):
        opts = self.conf.pipelines
        host = opts.app_host
        port = free_port(host)
        app = App(spec.trigger['uuid'], spec.uuid, run_cmd, src, dict(env, PORT=str(port)),
                  port, os.path.join(spec.work_dir, 'app.log'), opts.max_log_bytes)
        spec.log.note('run_cmd on PORT=%d: %s' % (port, run_cmd))
        app.start()
        deadline = time.monotonic() + opts.app_start_timeout
        while not _listening(host, port):
            if not app.alive() or time.monotonic() > deadline or spec.stopping.is_set():
                app.stop()
                why = ('exited with %s' % app.proc.returncode if app.proc.returncode
                       is not None and not spec.stopping.is_set()
                       else 'did not listen on $PORT in %d s' % opts.app_start_timeout)
                spec.log.note('the new app %s; its output:' % why)
                spec.log.write(app.log.text()[-4000:])
                return base.Result(base.FAILED, 'run_cmd %s; the previous app (if any) '
                                   'keeps running' % why)
            time.sleep(0.05)
        previous = self._swap(spec.trigger['uuid'], app)
        if previous is not None:
            spec.log.note('stopping the previous app (run %s)' % previous.get('run_uuid'))
            self._stop_previous(previous)
        spec.log.note('app listening on port %d' % port)
        self._prune(spec)
        url = 'http://%s:%d/' % ('[%s]' % host if ':' in host else host, port)
        return base.Result(base.SUCCESS, 'deployed', app_url=url)

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
        path = self._state_path(app.trigger_uuid)
        fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            json.dump(app.state(), f)
        os.replace(path + '.tmp', path)

    def reconcile(self, live_triggers):
        """Stop the apps of deleted triggers; start again, in their work dirs and on
        their ports, the apps of live triggers that no process serves (after an
        engine restart). The run worker calls this now and then.
        """
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
                    self._reconcile_one(trigger_uuid, trigger_uuid in live_triggers)

    def _reconcile_one(self, trigger_uuid, live):
        path = self._state_path(trigger_uuid)
        try:
            with open(path) as f:
                state = json.load(f)
            running = _is_run_process(state['pid'], state['run_uuid'])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if not live:
            if running:
                _killpg(state['pid'])
            _unlink(path)
            return
        # served by another engine process on this machine, or nothing to restore
        if running or 'command' not in state or not os.path.isdir(state['cwd']):
            return
        app = App(trigger_uuid, state['run_uuid'], state['command'], state['cwd'],
                  state['env'], state['port'], os.path.join(state['work_dir'], 'app.log'),
                  self.conf.pipelines.max_log_bytes, keep_log=True)
        app.log.note('restoring the app of run %s on port %d' % (app.run_uuid, app.port))
        app.start()
        self.apps[trigger_uuid] = app
        self._save(app)

    def _stop_previous(self, previous):
        app = previous.get('app')
        if app is not None:
            app.stop()
            return
        pid = previous.get('pid')
        # only a process that is still that run's app (pids get reused)
        if pid and _is_run_process(pid, previous.get('run_uuid')):
            _killpg(pid)

    def _prune(self, spec):
        """Keep the newest work dirs of this trigger, and always the serving one."""
        runs_dir = os.path.dirname(spec.work_dir)
        serving = {os.path.basename(os.path.dirname(a.cwd)) for a in self.apps.values()}
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

    def close(self):
        """Stop every app; their state stays, so the next engine start restores them."""
        with self._lock:
            apps, self.apps = list(self.apps.values()), {}
        for app in apps:
            app.stop()


def _is_run_process(pid, run_uuid):
    try:
        with open('/proc/%d/environ' % pid, 'rb') as f:
            return ('SOLUM_GIT_RUN=%s' % run_uuid).encode() in f.read().split(b'\0')
    except OSError:
        return False


def _killpg(pid):
    try:
        os.killpg(pid, 15)
    except (ProcessLookupError, PermissionError):
        pass


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
