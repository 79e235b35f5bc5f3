"""The one-machine provisioner: each stack is a gitolite home with its own sshd.

Layout of one stack, under ``[local] stacks_path`` (default $state_path/stacks):

    <stack uuid>/          the service user's (0711 as root, else 0700)
        home/              gitolite's HOME, owned by the stack's git user (0700)
        sshd/              sshd_config, host key, pid file, log (the service user's)
        http/              the smart HTTP front's pid file and log (the git user's)
        stopped            there while an operator has the server stopped

Users: as root, each stack runs as a unix user of its own (stackusers.py),
made with the stack and removed with it; a stack made by an older version
keeps the shared ``[local] git_user``. As an ordinary user every stack runs
as that user. Each stack's sshd_config sets HOME for its user.

Server processes (daemons.py) detach from the engine: they keep serving while
the engine stops, crashes or restarts, and any engine adopts them; they stop
only when their stack is deleted or an operator stops them.
"""
import getpass
import logging
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import threading
import time
from typing import Any, List, Optional, Tuple

from oslo_config import cfg
import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import known_hosts
from solum_git.common import private
from solum_git.common import procs
from solum_git.common import states
from solum_git.db import models
from solum_git.provisioners import base
from solum_git.provisioners import daemons
from solum_git.provisioners import greeter
from solum_git.provisioners import hostkeys
from solum_git.provisioners import stackusers
from solum_git.server import package

LOG = logging.getLogger(__name__)

DEFAULT_GIT_USER = 'solum-git'
BOOTSTRAP_TIMEOUT = 300
LOG_MAX_BYTES = 1024 * 1024
# how often reap() looks whether the server processes it knows still run
REAP_SECONDS = 1.0
HOOK_MAX_BYTES = 4 * 1024 * 1024
_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
STOPPED_REASON = ('git server stopped by an operator; "solum-git-manage stacks start" '
                  '(or the next engine start) brings it back')


class ProvisionError(Exception):
    """The local server could not be made or started; the text is the reason."""


def service_user(conf: cfg.ConfigOpts) -> str:
    """The shared git user: the service user, or [local] git_user as root."""
    if os.geteuid() == 0:
        return conf.local.git_user or DEFAULT_GIT_USER
    return getpass.getuser()


def bootstrap_script(conf: cfg.ConfigOpts) -> str:
    path = package.bootstrap_script(conf.local.bootstrap_script)
    if not path:
        raise ProvisionError('bootstrap.sh not found; set [local] bootstrap_script')
    return path


class Paths:
    def __init__(self, conf: cfg.ConfigOpts, stack_uuid: str):
        self.root = os.path.join(conf.local.stacks_path, stack_uuid)
        self.home = os.path.join(self.root, 'home')
        self.sshd = os.path.join(self.root, 'sshd')
        self.config = os.path.join(self.sshd, 'sshd_config')
        self.host_key = os.path.join(self.sshd, 'ssh_host_ed25519_key')
        self.pidfile = os.path.join(self.sshd, 'sshd.pid')
        self.log = os.path.join(self.sshd, 'sshd.log')
        self.stopped = os.path.join(self.root, 'stopped')
        self.admin_repo = os.path.join(self.home, 'repositories', 'gitolite-admin.git')
        self.hook_program = os.path.join(self.home, '.solum-git', 'bin', package.HOOK_NAME)
        self.http = os.path.join(self.root, 'http')
        self.http_pidfile = os.path.join(self.http, 'http.pid')
        self.http_log = os.path.join(self.http, 'http.log')
        self.http_program = os.path.join(self.home, '.solum-git', 'bin', package.HTTP_NAME)
        # the server programs: this solum-git's copy, and the one installed
        self.server_programs = os.path.join(self.root, package.SERVER_NAME)
        self.installed_programs = os.path.join(self.home, '.solum-git', 'bin',
                                               package.SERVER_NAME)


class LocalProvisioner(base.Provisioner):
    name = 'local'
    reap_seconds = REAP_SECONDS
    http_port_range = True
    host_bound = True

    def __init__(self, conf: cfg.ConfigOpts):
        super().__init__(conf)
        # stack uuid -> {process name: (pid, start time)}
        self._known: dict[str, dict[str, Tuple[int, Optional[int]]]] = {}
        self._bootstraps: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False
        # an operator's stop older than this process is over (see _stopped)
        self._started_at = time.time()
        self._last_reap = 0.0

    def engine_host(self) -> str | None:
        # the address this host's stacks are reserved with (reserve below)
        return self.conf.local.ssh_host

    def stack_host(self, stack: Any) -> str | None:
        return stack.ssh_host

    def user_for(self, stack_uuid: str) -> str:
        """The unix user a new stack runs as (and so its ssh_user)."""
        if os.geteuid() == 0:
            return stackusers.name_for(stack_uuid)
        return getpass.getuser()

    def reserve(self, session: orm.Session, stack: Any) -> None:
        """Pick a free loopback port; the unique constraint settles races.

        At random among the free ones: API processes creating stacks at the same
        time seldom pick the same port (the lowest would make them all race for it).
        """
        host = self.conf.local.ssh_host
        used: set[int] = set(session.execute(sa.select(models.Stack.ssh_port).where(
            models.Stack.ssh_host == host,
            models.Stack.ssh_port.isnot(None))).scalars())
        stack.ssh_host = host
        stack.ssh_port = _free_port(used, self.conf.local.ssh_port_min,
                                    self.conf.local.ssh_port_max, 'ssh_port')
        stack.ssh_user = self.user_for(stack.uuid)
        self.reserve_http(session, stack)

    def reserve_http(self, session: orm.Session, stack: Any) -> None:
        """A free port of [local] http_port_min..http_port_max (as ``reserve``)."""
        host = stack.ssh_host or self.conf.local.ssh_host
        used: set[int] = set(session.execute(sa.select(models.Stack.http_port).where(
            models.Stack.ssh_host == host,
            models.Stack.http_port.isnot(None))).scalars())
        stack.http_port = _free_port(used, self.conf.local.http_port_min,
                                     self.conf.local.http_port_max, 'http_port')

    # -- the Provisioner contract ---------------------------------------------
    def create(self, stack: Any, settings: dict[str, Any]) -> None:
        """Bootstrap the stack's directory (idempotent) and start its server.

        Until its sshd runs, clients that connect are told the server is starting
        (a greeter on its port; none if its sshd runs already).
        """
        paths = Paths(self.conf, stack.uuid)
        with greeter.Greeter(stack.ssh_host, stack.ssh_port):
            before = _read(paths.config)
            user = self._git_user(stack, paths)
            self._prepare_dirs(paths, user)
            self._bootstrap(stack, paths, user, settings)
            if before and _read(paths.config) != before:
                # a running sshd would keep the old config (another user: stacks migrate)
                self._stop_processes(stack, paths)
        self._ensure_running(stack, paths)

    def check(self, stack: Any) -> base.ServerState:
        paths = Paths(self.conf, stack.uuid)
        if not (os.path.isdir(paths.admin_repo) and os.path.exists(paths.config)):
            return base.ServerState(states.ServerStatus.BUILDING, 'not bootstrapped yet')
        try:
            if not self._ensure_running(stack, paths):
                return base.ServerState(states.ServerStatus.STOPPED, STOPPED_REASON)
            line = self._host_key_line(stack, paths)
        except ProvisionError as e:
            return base.ServerState(states.ServerStatus.ERROR, str(e))
        pinned = (stack.ssh_host_keys or '').split('\n')
        if stack.ssh_host_keys and line not in pinned:
            return base.ServerState(states.ServerStatus.ERROR, 'the host key of %s changed behind '
                                    "solum-git's back; clients pinned %s"
                                    % (paths.host_key, pinned[0]))
        extra = {}
        if not getattr(stack, 'ssh_host_private_key', None):
            # kept in the database: a server lost whole comes back with it
            extra['ssh_host_private_key'] = _read(paths.host_key) or None
        return base.ServerState(states.ServerStatus.ACTIVE, ssh_host=stack.ssh_host,
                                ssh_port=stack.ssh_port, ssh_user=stack.ssh_user,
                                ssh_host_keys=line, extra=extra)

    def repair(self, stack: Any, settings: dict[str, Any], deep: bool = False) -> None:
        """Rewrite the sshd config (a full bootstrap if ``deep``); restart on change.

        A hook program that differs from this solum-git's (an upgrade) also
        takes a full bootstrap, which installs the new one.
        """
        paths = Paths(self.conf, stack.uuid)
        before = _read(paths.config)
        user = self._git_user(stack, paths)
        hook = settings.get('hook_program')
        if hook and _read(hook) != _read_in_home(paths.hook_program):
            LOG.info('stack %s: installing the current hook program', stack.uuid)
            deep = True
        http = settings.get('http_program')
        new_http = http and _read(http) != _read_in_home(paths.http_program)
        if new_http:
            LOG.info('stack %s: installing the current HTTP front', stack.uuid)
            deep = True
        if package.archive() != private.read_untrusted(paths.installed_programs,
                                                       HOOK_MAX_BYTES):
            LOG.info('stack %s: installing the current server programs', stack.uuid)
            deep = True
        if deep:
            self._prepare_dirs(paths, user)
            self._bootstrap(stack, paths, user, settings)
        else:
            self._run_bootstrap(stack, paths, user, ['--only-sshd-config'], {})
        if _read(paths.config) != before:
            LOG.warning('stack %s: sshd config had drifted; restarting sshd', stack.uuid)
            self._stop_processes(stack, paths)
        elif new_http:
            self._stop_processes(stack, paths, only='http')
        self._ensure_running(stack, paths)

    def delete(self, stack: Any) -> None:
        """Stop its processes (connections too), remove its files and its user."""
        paths = Paths(self.conf, stack.uuid)
        self._stop_processes(stack, paths, sessions=True)
        own_user = os.geteuid() == 0 and stackusers.is_stack_user(stack.ssh_user,
                                                                  stack.uuid)
        try:
            if own_user:
                stackusers.kill_processes(stack.uuid)
            # rmtree works on file descriptors: a symlink planted in the home
            # is removed, never followed
            shutil.rmtree(paths.root, ignore_errors=True)
            if os.path.lexists(paths.root):
                raise ProvisionError('could not remove %s' % paths.root)
            if own_user:
                stackusers.remove(stack.uuid)
        except stackusers.UserError as e:
            raise ProvisionError(str(e))

    def start(self, stack: Any) -> bool:
        """Start the stack's server processes (an operator's stop is over)."""
        paths = Paths(self.conf, stack.uuid)
        try:
            os.unlink(paths.stopped)
        except FileNotFoundError:
            pass
        if not os.path.exists(paths.config):
            raise ProvisionError('stack %s is not set up yet; the engine makes it'
                                 % stack.uuid)
        return self._ensure_running(stack, paths)

    def stop(self, stack: Any) -> bool:
        """Stop the stack's server processes until start() or an engine start.

        Connections in progress (a push) finish; new ones are refused.
        """
        paths = Paths(self.conf, stack.uuid)
        if os.path.isdir(paths.root):
            fd = os.open(paths.stopped, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            os.close(fd)
            os.utime(paths.stopped)
        return self._stop_processes(stack, paths)

    def migrate_user(self, stack: Any) -> str:
        """A stack of the shared user gets a user of its own: stop it, name the user.

        The caller records the new ssh_user (the git_url changes) and sets
        the stack BUILDING; the next pass makes the user, hands it the home
        and bootstraps the server for it.
        """
        if os.geteuid() != 0:
            raise ProvisionError('only a service run as root has a user per stack')
        if stackusers.is_stack_user(stack.ssh_user, stack.uuid):
            raise ProvisionError('stack %s already runs as its own user %s'
                                 % (stack.uuid, stack.ssh_user))
        try:
            stackusers.lookup(stack.uuid)
        except stackusers.UserError as e:
            raise ProvisionError(str(e))
        self._stop_processes(stack, Paths(self.conf, stack.uuid), sessions=True)
        return stackusers.name_for(stack.uuid)

    def servers(self, stack: Any) -> List[Tuple[str, Optional[Tuple[int, Optional[int]]]]]:
        paths = Paths(self.conf, stack.uuid)
        return [(d.name, d.running()) for d in self._processes(stack, paths)]

    def reap(self) -> List[str]:
        """Stacks whose server processes died since the last look (cheap, ~1/s)."""
        now = time.monotonic()
        if now - self._last_reap < REAP_SECONDS:
            return []
        self._last_reap = now
        with self._lock:
            known = list(self._known.items())
        dead = []
        for uuid, found in known:
            daemons.rotate_log(Paths(self.conf, uuid).log, LOG_MAX_BYTES)
            daemons.rotate_log(Paths(self.conf, uuid).http_log, LOG_MAX_BYTES)
            gone = [name for name, (pid, started) in found.items()
                    if not procs.alive(pid, started)]
            if gone:
                LOG.warning('stack %s: %s exited; it will be started again', uuid,
                            ', '.join(gone))
                dead.append(uuid)
        with self._lock:
            for uuid in dead:
                self._known.pop(uuid, None)
        return dead

    def close(self) -> None:
        """The engine stops: bootstraps in flight end; the servers keep running."""
        with self._lock:
            self._closed = True
            bootstraps = list(self._bootstraps)
        for proc in bootstraps:
            _kill_group(proc)

    # -- server processes ------------------------------------------------------
    def _processes(self, stack, paths):
        """The stack's server processes: its sshd and its smart HTTP front."""
        sshd = daemons.Daemon(
            'sshd', [self.conf.local.sshd_path, '-f', paths.config, '-E', paths.log],
            paths.pidfile, paths.log, '-f %s' % paths.config, stack.ssh_host,
            stack.ssh_port, env={'PATH': _PATH, 'LANG': 'C'})
        # a stack from before the front gets it with its next full bootstrap
        if not stack.http_port or not os.path.isfile(paths.http_program):
            return [sshd]
        return [sshd, self._http_daemon(stack, paths)]

    def _http_daemon(self, stack, paths):
        """The front runs as the stack's git user, from its copy in the home."""
        argv = [self.conf.git_http.python, paths.http_program, 'serve',
                '--home', paths.home, '--listen', stack.ssh_host,
                '--port', str(stack.http_port), '--pidfile', paths.http_pidfile,
                '--log', paths.http_log,
                '--pin-max-age', str(self.conf.git_http.pin_max_age)]
        uid = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(stack.ssh_user)
            except KeyError:
                entry = None
            if entry is not None:
                uid = entry.pw_uid
                argv = ['setpriv', '--reuid=%d' % entry.pw_uid,
                        '--regid=%d' % entry.pw_gid, '--init-groups', '--'] + argv
        return daemons.Daemon(
            'http', argv, paths.http_pidfile, paths.http_log,
            '--pidfile %s' % paths.http_pidfile, stack.ssh_host, stack.http_port,
            env={'PATH': _PATH, 'LANG': 'C', 'HOME': paths.home}, uid=uid,
            hello=b'GET /healthz HTTP/1.0\r\n\r\n', banner=b'HTTP/')

    def _stopped(self, paths):
        """An operator stopped this server after this process started."""
        try:
            st = os.lstat(paths.stopped)
        except FileNotFoundError:
            return False
        if st.st_mtime >= self._started_at:
            return True
        # stopped before this engine started: an engine start brings it back
        LOG.info('%s: an operator stopped it before this engine started; starting it',
                 paths.root)
        try:
            os.unlink(paths.stopped)
        except FileNotFoundError:
            pass
        return False

    def _ensure_running(self, stack, paths):
        """Adopt or start each server process; False if an operator stopped it."""
        with self._lock:
            if self._closed:
                raise ProvisionError('the engine is stopping')
        if self._stopped(paths):
            with self._lock:
                self._known.pop(stack.uuid, None)
            return False
        with self._lock:
            before = dict(self._known.get(stack.uuid, {}))
        found = {}
        for process in self._processes(stack, paths):
            running = process.running()
            if running is None:
                try:
                    running = process.start(self.conf.local.start_timeout)
                except daemons.DaemonError as e:
                    raise ProvisionError(str(e))
                LOG.info('stack %s: %s %d started on %s:%s', stack.uuid, process.name,
                         running[0], stack.ssh_host, stack.ssh_port)
            elif before.get(process.name) != running:
                LOG.info('stack %s: %s %d adopted', stack.uuid, process.name, running[0])
            found[process.name] = running
        with self._lock:
            self._known[stack.uuid] = found
        return True

    def _stop_processes(self, stack, paths, sessions=False, only=None):
        with self._lock:
            self._known.pop(stack.uuid, None)
        stopped = False
        for process in self._processes(stack, paths):
            if only and process.name != only:
                continue
            if process.stop(sessions=sessions):
                LOG.info('stack %s: %s stopped', stack.uuid, process.name)
                stopped = True
        return stopped

    def _host_key_line(self, stack, paths):
        key = _read(paths.host_key + '.pub').strip()
        if not key:
            raise ProvisionError('no host key in %s' % paths.sshd)
        return known_hosts.line(stack.ssh_host, stack.ssh_port, key)

    # -- set-up --------------------------------------------------------------------
    def _git_user(self, stack, paths):
        """The unix user the stack's gitolite runs as (made if missing)."""
        if os.geteuid() != 0:
            user = getpass.getuser()
            shell = pwd.getpwuid(os.geteuid()).pw_shell
            if not shell or shell.endswith(('nologin', 'false')):
                raise ProvisionError(
                    'the service user %s has login shell %r; its sshd runs gitolite '
                    'through that shell: give it /bin/sh' % (user, shell))
            return user
        if stackusers.is_stack_user(stack.ssh_user, stack.uuid):
            try:
                return stackusers.ensure(stack.uuid, paths.home).pw_name
            except stackusers.UserError as e:
                raise ProvisionError(str(e))
        return self._shared_user()

    def _shared_user(self):
        """The one user of stacks made before users per stack (kept as they were)."""
        user = service_user(self.conf)
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
        os.makedirs(paths.http, mode=0o700, exist_ok=True)
        if not as_root:
            return
        entry = pwd.getpwnam(user)
        # the git user walks to its HOME through these; it may not list them
        # bandit B103: a directory: others may traverse it, not list or write it
        os.chmod(paths.root, 0o711)  # nosec B103
        self._make_traversable(os.path.dirname(paths.root), entry.pw_uid)
        os.makedirs(paths.home, mode=0o700, exist_ok=True)
        st = os.lstat(paths.home)
        if not stat.S_ISDIR(st.st_mode):
            raise ProvisionError('%s is not a directory' % paths.home)
        if (st.st_uid, st.st_gid) != (entry.pw_uid, entry.pw_gid):
            # a new home, or one moving to the stack's own user (stacks migrate);
            # the home itself last, so a walk cut short is done again
            _chown_tree(paths.home, entry.pw_uid, entry.pw_gid)
        os.chmod(paths.home, 0o700, follow_symlinks=False)
        # the front (the git user) writes its pid file and log here
        st = os.lstat(paths.http)
        if not stat.S_ISDIR(st.st_mode):
            raise ProvisionError('%s is not a directory' % paths.http)
        os.chown(paths.http, entry.pw_uid, entry.pw_gid, follow_symlinks=False)

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
        if settings.get('http_program'):
            args += ['--http-program', settings['http_program']]
        args += ['--server-programs', package.write_archive(paths.server_programs)]
        self._run_bootstrap(stack, paths, user, args,
                            {'HOOK_SECRET': stack.hook_secret or ''})

    def _restore_host_key(self, stack, paths):
        """A server rebuilt from nothing keeps the host key its clients pinned."""
        kept = getattr(stack, 'ssh_host_private_key', None)
        if not kept or os.path.exists(paths.host_key):
            return
        os.makedirs(paths.sshd, mode=0o700, exist_ok=True)
        LOG.warning('stack %s: its host key is gone from %s; putting back the one '
                    'kept in the database', stack.uuid, paths.sshd)
        public = hostkeys.public_of(kept)
        for path, text, mode in ((paths.host_key, kept, 0o600),
                                 (paths.host_key + '.pub', public + '\n', 0o644)):
            fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, 'w') as f:
                f.write(text if text.endswith('\n') else text + '\n')
            os.replace(path + '.tmp', path)

    def _run_bootstrap(self, stack, paths, user, args, env):
        self._restore_host_key(stack, paths)
        argv = ['/bin/sh', bootstrap_script(self.conf), '--phase', 'configure',
                '--git-user', user, '--git-home', paths.home, '--sshd', 'own',
                '--sshd-dir', paths.sshd, '--ssh-listen', stack.ssh_host,
                '--ssh-port', str(stack.ssh_port)] + args
        full_env = {'PATH': _PATH, 'LANG': 'C', 'HOME': paths.home}
        full_env.update(env)
        with self._lock:
            if self._closed:
                raise ProvisionError('the engine is stopping')
            # its own session (close() stops it and what it started) and tethered:
            # the whole tree dies with the engine, even on kill -9
            proc = subprocess.Popen(procs.tethered_tree(argv), env=full_env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
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
                                 % (proc.returncode, daemons.tail(err)))
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


def _chown_tree(top, uid, gid):
    """chown a home and all in it to its user, without following any symlink.

    Directory descriptors (fwalk) keep a path swapped for a symlink mid-walk
    from leading outside. A file with more than one link may be a hard link
    to another stack's file: it gets a copy of its own instead.
    """
    for _root, dirs, files, root_fd in os.fwalk(top, topdown=False):
        for name in files + dirs:
            st = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                _unlink_copy(name, root_fd, st)
            os.chown(name, uid, gid, dir_fd=root_fd, follow_symlinks=False)
    os.chown(top, uid, gid, follow_symlinks=False)


def _unlink_copy(name, dir_fd, st):
    """Replace a hard-linked file with a private copy of its content."""
    tmp = '.%s.solum-git-copy' % name
    try:
        os.unlink(tmp, dir_fd=dir_fd)  # left by a crash
    except FileNotFoundError:
        pass
    src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                      stat.S_IMODE(st.st_mode) & 0o700, dir_fd=dir_fd)
        try:
            while True:
                chunk = os.read(src, 1 << 20)
                if not chunk:
                    break
                os.write(dst, chunk)
        finally:
            os.close(dst)
    finally:
        os.close(src)
    os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ''


def _read_in_home(path):
    """A file the git user controls: a regular file or nothing (no symlink, no FIFO)."""
    data = private.read_untrusted(path, HOOK_MAX_BYTES)
    return (data or b'').decode('utf-8', 'replace')


def _run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True,
                          env={'PATH': _PATH, 'LANG': 'C'})
    if proc.returncode != 0:
        raise ProvisionError('%s failed: %s' % (argv[0], daemons.tail(proc.stderr)))


def _free_port(used: set[int], low: int, high: int, option: str) -> int:
    free = [port for port in range(low, high + 1) if port not in used]
    if not free:
        from solum_git.common import exception
        raise exception.ServiceUnavailable(
            'no free port in [local] %s_min..%s_max for a new git server'
            % (option, option))
    return secrets.choice(free)
