"""The one-machine provisioner: each stack is a gitolite home with its own sshd.

Layout of one stack, under ``[local] stacks_path`` (default $state_path/stacks):

    <stack uuid>/          the service user's (0711 as root, else 0700)
        home/              gitolite's HOME, owned by the git user
        sshd/              sshd_config, host key, pid file, log (the service user's)

All local stacks run as one unix user (the service user, or ``[local] git_user``
when the service is root); the per-stack sshd config sets HOME for it. The
engine starts each sshd as its child, waits for it, and starts it again when it
dies or when a new engine process takes over.
"""
import getpass
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import sqlalchemy as sa

from solum_git.db import models
from solum_git.gitolite import admin
from solum_git.provisioners import base

LOG = logging.getLogger(__name__)

DEFAULT_GIT_USER = 'solum-git'
BOOTSTRAP_TIMEOUT = 300
LOG_MAX_BYTES = 1024 * 1024
_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


class ProvisionError(Exception):
    """The local server could not be made or started; the text is the reason."""


def service_user(conf):
    if os.geteuid() == 0:
        return conf.local.git_user or DEFAULT_GIT_USER
    return getpass.getuser()


def bootstrap_script(conf):
    if conf.local.bootstrap_script:
        return conf.local.bootstrap_script
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for path in (os.path.join(top, 'images', 'bootstrap.sh'),
                 os.path.join(sys.prefix, 'share', 'solum-git', 'bootstrap.sh')):
        if os.path.exists(path):
            return path
    raise ProvisionError('bootstrap.sh not found; set [local] bootstrap_script')


class Paths:
    def __init__(self, conf, stack_uuid):
        self.root = os.path.join(conf.local.stacks_path, stack_uuid)
        self.home = os.path.join(self.root, 'home')
        self.sshd = os.path.join(self.root, 'sshd')
        self.config = os.path.join(self.sshd, 'sshd_config')
        self.host_key = os.path.join(self.sshd, 'ssh_host_ed25519_key')
        self.pidfile = os.path.join(self.sshd, 'sshd.pid')
        self.log = os.path.join(self.sshd, 'sshd.log')
        self.admin_repo = os.path.join(self.home, 'repositories', 'gitolite-admin.git')
        self.hook_program = os.path.join(self.home, '.solum-git', 'bin', 'solum-git-hook')


class _Sshd:
    """One sshd child: started here, reaped here."""

    def __init__(self, proc, log):
        self.proc = proc
        self.log = log

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=5):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class LocalProvisioner(base.Provisioner):
    name = 'local'

    def __init__(self, conf):
        super().__init__(conf)
        self._servers = {}
        self._bootstraps = set()
        self._lock = threading.Lock()
        self._closed = False

    def reserve(self, session, stack):
        """Pick the lowest free loopback port; the unique constraint settles races."""
        host = self.conf.local.ssh_host
        used = set(session.execute(sa.select(models.Stack.ssh_port).where(
            models.Stack.ssh_host == host,
            models.Stack.ssh_port.isnot(None))).scalars())
        for port in range(self.conf.local.ssh_port_min, self.conf.local.ssh_port_max + 1):
            if port not in used:
                break
        else:
            from solum_git.common import exception
            raise exception.ServiceUnavailable(
                'no free port in [local] ssh_port_min..ssh_port_max for a new git '
                'server')
        stack.ssh_host = host
        stack.ssh_port = port
        stack.ssh_user = service_user(self.conf)

    # -- the Provisioner contract ---------------------------------------------
    def create(self, stack, settings):
        """Bootstrap the stack's directory (idempotent) and start its sshd."""
        paths = Paths(self.conf, stack.uuid)
        user = self._git_user()
        self._prepare_dirs(paths, user)
        self._bootstrap(stack, paths, user, settings)
        self._ensure_running(stack, paths)

    def check(self, stack):
        paths = Paths(self.conf, stack.uuid)
        if not (os.path.isdir(paths.admin_repo) and os.path.exists(paths.config)):
            return base.ServerState(base.BUILDING, 'not bootstrapped yet')
        try:
            self._ensure_running(stack, paths)
            line = self._host_key_line(stack, paths)
        except ProvisionError as e:
            return base.ServerState(base.ERROR, str(e))
        pinned = (stack.ssh_host_keys or '').split('\n')
        if stack.ssh_host_keys and line not in pinned:
            return base.ServerState(base.ERROR, 'the host key of %s changed behind '
                                    "solum-git's back; clients pinned %s"
                                    % (paths.host_key, pinned[0]))
        return base.ServerState(base.ACTIVE, ssh_host=stack.ssh_host,
                                ssh_port=stack.ssh_port, ssh_user=stack.ssh_user,
                                ssh_host_keys=line)

    def repair(self, stack, settings, deep=False):
        """Rewrite the sshd config (a full bootstrap if ``deep``); restart on change.

        A hook program that differs from this solum-git's (an upgrade) also
        takes a full bootstrap, which installs the new one.
        """
        paths = Paths(self.conf, stack.uuid)
        before = _read(paths.config)
        user = self._git_user()
        hook = settings.get('hook_program')
        if hook and _read(hook) != _read(paths.hook_program):
            LOG.info('stack %s: installing the current hook program', stack.uuid)
            deep = True
        if deep:
            self._prepare_dirs(paths, user)
            self._bootstrap(stack, paths, user, settings)
        else:
            self._run_bootstrap(stack, paths, user, ['--only-sshd-config'], {})
        if _read(paths.config) != before:
            LOG.warning('stack %s: sshd config had drifted; restarting sshd', stack.uuid)
            self._stop(stack.uuid)
        self._ensure_running(stack, paths)

    def delete(self, stack):
        paths = Paths(self.conf, stack.uuid)
        self._stop(stack.uuid)
        self._kill_orphan(paths, force=True)
        shutil.rmtree(paths.root, ignore_errors=True)
        if os.path.exists(paths.root):
            raise ProvisionError('could not remove %s' % paths.root)

    def reap(self):
        """Collect sshds that exited; their stacks need a look now."""
        dead = []
        with self._lock:
            for uuid, server in list(self._servers.items()):
                if not server.alive():
                    LOG.warning('sshd of stack %s exited (%s); it will be restarted',
                                uuid, server.proc.returncode)
                    server.stop()
                    del self._servers[uuid]
                    dead.append(uuid)
                elif server.log.tell() > LOG_MAX_BYTES:
                    os.truncate(server.log.name, 0)
                    server.log.seek(0)
        return dead

    def close(self):
        with self._lock:
            self._closed = True
            servers, self._servers = self._servers, {}
            bootstraps = list(self._bootstraps)
        for proc in bootstraps:
            _kill_group(proc)
        for server in servers.values():
            server.stop()

    # -- sshd --------------------------------------------------------------------
    def _ensure_running(self, stack, paths):
        with self._lock:
            if self._closed:
                raise ProvisionError('the engine is stopping')
            server = self._servers.get(stack.uuid)
            if server is not None and server.alive():
                return
            if server is not None:
                server.stop()
                del self._servers[stack.uuid]
            if not self._kill_orphan(paths):
                # another live engine runs this sshd; it answers for the stack
                if _answers(stack.ssh_host, stack.ssh_port, 1):
                    return
            self._servers[stack.uuid] = self._start(stack, paths)

    def _start(self, stack, paths):
        log = open(paths.log, 'ab')
        proc = subprocess.Popen(
            [self.conf.local.sshd_path, '-D', '-e', '-f', paths.config],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True,
            start_new_session=True, env={'PATH': _PATH, 'LANG': 'C'})
        server = _Sshd(proc, log)
        deadline = time.monotonic() + self.conf.local.start_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                server.stop()
                raise ProvisionError('sshd for %s:%s exited at start: %s' % (
                    stack.ssh_host, stack.ssh_port, _tail(paths.log)))
            if _answers(stack.ssh_host, stack.ssh_port, 0.5):
                LOG.info('stack %s: sshd %d on %s:%s', stack.uuid, proc.pid,
                         stack.ssh_host, stack.ssh_port)
                return server
            time.sleep(0.02)
        server.stop()
        raise ProvisionError('sshd for %s:%s did not answer within %ss: %s' % (
            stack.ssh_host, stack.ssh_port, self.conf.local.start_timeout,
            _tail(paths.log)))

    def _stop(self, uuid):
        with self._lock:
            server = self._servers.pop(uuid, None)
        if server is not None:
            server.stop()

    def _kill_orphan(self, paths, force=False):
        """An sshd of this stack left by a dead engine: stop it (it is nobody's child).

        False if a live process other than init still parents it (another engine).
        """
        try:
            pid = int(_read(paths.pidfile).strip())
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                cmdline = f.read().split(b'\0')
            with open('/proc/%d/stat' % pid) as f:
                stat = f.read().rsplit(')', 1)[1].split()
        except (ValueError, OSError):
            return True
        # sshd retitles itself: "sshd: /usr/sbin/sshd -D -e -f <config> [listener] ..."
        if (b' %s' % paths.config.encode()) not in b' '.join(cmdline) or stat[0] == 'Z':
            return True
        if int(stat[1]) != 1 and not force:
            return False
        LOG.warning('stopping orphaned sshd %d of %s', pid, paths.root)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _running(pid):
            time.sleep(0.02)
        return True

    def _host_key_line(self, stack, paths):
        key = _read(paths.host_key + '.pub').strip()
        if not key:
            raise ProvisionError('no host key in %s' % paths.sshd)
        return admin.known_hosts_line(stack.ssh_host, stack.ssh_port, key)

    # -- set-up --------------------------------------------------------------------
    def _git_user(self):
        user = service_user(self.conf)
        if os.geteuid() != 0:
            shell = pwd.getpwuid(os.geteuid()).pw_shell
            if not shell or shell.endswith(('nologin', 'false')):
                raise ProvisionError(
                    'the service user %s has login shell %r; its sshd runs gitolite '
                    'through that shell: give it /bin/sh' % (user, shell))
            return user
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            LOG.info('creating system user %s for local git servers', user)
            # each stack has its own HOME (sshd_config SetEnv); sshd only needs
            # a directory it can chdir to, or it says so on every git command
            _run(['useradd', '--system', '--user-group', '--shell', '/bin/sh',
                  '--home-dir', '/', '--no-create-home', user])
            entry = pwd.getpwnam(user)
        if not os.path.isdir(entry.pw_dir):
            raise ProvisionError('the home directory of %s (%s) does not exist; sshd '
                                 'would complain on every git command: create it or '
                                 '"usermod -d / %s"' % (user, entry.pw_dir, user))
        return user

    def _prepare_dirs(self, paths, user):
        as_root = os.geteuid() == 0
        os.makedirs(paths.root, mode=0o700, exist_ok=True)
        if not as_root:
            return
        entry = pwd.getpwnam(user)
        # the git user walks to its HOME through these; it may not list them
        os.chmod(paths.root, 0o711)
        self._make_traversable(os.path.dirname(paths.root), entry.pw_uid)
        os.makedirs(paths.home, mode=0o700, exist_ok=True)
        os.chown(paths.home, entry.pw_uid, entry.pw_gid)

    def _make_traversable(self, path, uid):
        state = os.path.realpath(self.conf.state_path)
        path = os.path.realpath(path)
        while True:
            st = os.stat(path)
            if not (st.st_mode & 0o001 or st.st_uid == uid):
                ours = path == state or path.startswith(state + os.sep)
                if ours and st.st_uid == os.geteuid():
                    os.chmod(path, (st.st_mode & 0o7777) | 0o001)
                else:
                    raise ProvisionError(
                        'the git user cannot reach %s: %s is not traversable; make it '
                        'so or set [local] stacks_path elsewhere'
                        % (self.conf.local.stacks_path, path))
            if path == '/':
                return
            path = os.path.dirname(path)

    def _bootstrap(self, stack, paths, user, settings):
        args = ['--admin-key', settings['admin_public_key'],
                '--admin-user', settings.get('admin_user') or 'solum-git',
                '--stack-id', stack.uuid]
        if settings.get('callback_url'):
            args += ['--callback-url', settings['callback_url']]
        if settings.get('hook_program'):
            args += ['--hook-program', settings['hook_program']]
        self._run_bootstrap(stack, paths, user, args,
                            {'HOOK_SECRET': stack.hook_secret or ''})

    def _run_bootstrap(self, stack, paths, user, args, env):
        argv = ['/bin/sh', bootstrap_script(self.conf), '--phase', 'configure',
                '--git-user', user, '--git-home', paths.home, '--sshd', 'own',
                '--sshd-dir', paths.sshd, '--ssh-listen', stack.ssh_host,
                '--ssh-port', str(stack.ssh_port)] + args
        full_env = {'PATH': _PATH, 'LANG': 'C', 'HOME': paths.home}
        full_env.update(env)
        with self._lock:
            if self._closed:
                raise ProvisionError('the engine is stopping')
            # its own session: close() can stop it and everything it started
            proc = subprocess.Popen(argv, env=full_env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, start_new_session=True)
            self._bootstraps.add(proc)
        try:
            out, err = proc.communicate(timeout=BOOTSTRAP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ProvisionError('bootstrap.sh did not finish in %ss' % BOOTSTRAP_TIMEOUT)
        finally:
            with self._lock:
                self._bootstraps.discard(proc)
        if proc.returncode != 0:
            raise ProvisionError('bootstrap.sh failed (%d): %s'
                                 % (proc.returncode, _tail_text(err)))
        return out


def _kill_group(proc):
    """Stop a child started in its own session, with whatever it started."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _answers(host, port, timeout):
    """True when an SSH server greets on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(8).startswith(b'SSH-')
    except OSError:
        return False


def _running(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ''


def _tail(path):
    return _tail_text(_read(path))


def _tail_text(text, n=5):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return ' | '.join(lines[-n:]) or '(no output)'


def _run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True,
                          env={'PATH': _PATH, 'LANG': 'C'})
    if proc.returncode != 0:
        raise ProvisionError('%s failed: %s' % (argv[0], _tail_text(proc.stderr)))
