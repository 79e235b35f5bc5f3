"""bubblewrap: each command in its own mount, pid, ipc and uts namespaces.

What a command sees: ``ro_paths`` (``/usr``, ``/etc``) and the ``/bin``,
``/sbin``, ``/lib*`` of the host read-only, a fresh ``/proc`` of its own pid
namespace, a minimal ``/dev``, a size-limited tmpfs on ``/tmp`` and
``/dev/shm``, and its work dir (``box``) at ``/work``, read-write. Nothing of
``state_path`` but that; the root and ``/dev`` are read-only.

As root, bwrap sets that view up as root (so it can reach the work dir under a
0700 ``state_path``), with no user namespace at all, and ``setpriv`` (inside,
from the read-only ``/usr``) then drops to the project's own uid with no
capabilities: the trap of ``--unshare-user --uid N`` started by root (the
inside uid is root outside) does not apply. As an ordinary user no uid switch
is possible: bwrap makes a user namespace (nested ones disabled) and the
command runs as the service's uid, with the same view.

``--die-with-parent`` ties the sandbox to the *thread* that started bwrap:
the runner starts every sandbox from one long-lived thread
(``pipelines/process.Spawner``).
"""
import json
import os
import pwd
import select
import signal
import stat
import subprocess
import threading
import time
from typing import Iterable, List, Optional, Sequence, Tuple

from oslo_config import cfg

from solum_git.sandboxes import base
from solum_git.sandboxes import cgroups

USER = 'solum-run'
STATUS_TIMEOUT = 10


def _status_docs(text):
    """The JSON documents bwrap wrote to its --json-status-fd, one after another."""
    decoder = json.JSONDecoder()
    docs, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        try:
            doc, i = decoder.raw_decode(text, i)
        except ValueError:
            return docs  # cut short: bwrap died while writing
        docs.append(doc)


def root_entries(top: str = '/') -> List[Tuple[str, str, str]]:
    """(flag, source, dest) for the host's /bin, /sbin and /lib* (links or dirs)."""
    out = []
    for name in ('bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'):
        path = os.path.join(top, name)
        if os.path.islink(path):
            out.append(('--symlink', os.readlink(path), '/' + name))
        elif os.path.isdir(path):
            out.append(('--ro-bind', path, '/' + name))
    return out


def _parents(path):
    """'/a/b/c' -> ['/a', '/a/b']."""
    parts = path.strip('/').split('/')[:-1]
    return ['/' + '/'.join(parts[:i + 1]) for i in range(len(parts))]


def _under(path, tops):
    return any(path == top or path.startswith(top.rstrip('/') + '/') for top in tops)


# run by root before bwrap: the process joins its cgroups, then becomes bwrap, so
# nothing of the sandbox ever runs outside them
JOIN_CGROUPS = ('n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || '
                '{ echo "solum-git: cannot join the cgroup $1" >&2; exit 126; }; '
                'shift; n=$((n - 1)); done; exec "$@"')


def build_argv(job: base.Job, *, as_root: bool, bwrap: str, setpriv: str, prlimit: str,
               ro_paths: Sequence[str],
               entries: Iterable[Tuple[str, str, str]],
               hidden: Iterable[Tuple[str, bool]] = (), status_fd: Optional[int] = None,
               passwd_fd: Optional[int] = None, group_fd: Optional[int] = None,
               cgroup_procs: Sequence[str] = ()) -> List[str]:
    """bwrap's argv for ``job`` (pure: every host fact comes in as an argument).

    ``hidden``: [(path, is_dir)] to mask; ``cgroup_procs``: the ``cgroup.procs``
    files of the job's memory and pids cgroups (then memory and processes are
    not limited by rlimits).
    """
    limits = job.limits
    argv = []
    if cgroup_procs:
        argv += ['/bin/sh', '-c', JOIN_CGROUPS, 'join-cgroups', str(len(cgroup_procs))]
        argv += list(cgroup_procs)
    argv.append(bwrap)
    if not as_root:
        argv += ['--unshare-user', '--disable-userns']
    argv += ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try']
    if not job.network:
        argv.append('--unshare-net')
    argv += ['--die-with-parent', '--new-session', '--cap-drop', 'ALL',
             '--hostname', 'sandbox']
    if as_root:
        # only what setpriv needs to switch to the project's uid (and, till then,
        # to enter the project's 0700 work dir), then none
        argv += ['--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID',
                 '--cap-add', 'CAP_DAC_READ_SEARCH']
    made = set()
    for path in ro_paths:
        # bwrap would make the missing parents 0700 root: the uid could not pass
        for parent in _parents(path):
            if parent not in made:
                made.add(parent)
                argv += ['--perms', '0755', '--dir', parent]
        argv += ['--ro-bind-try', path, path]
    for flag, source, dest in entries:
        if not _under(dest, ro_paths):
            argv += [flag, source, dest]
    tmp_bytes = str(limits.tmp_size_mb * base.MIB)
    argv += ['--proc', '/proc', '--dev', '/dev']
    # bandit B108: the sandbox's own new tmpfs mounts, not the host's directories
    for tmpfs in ('/dev/shm', '/tmp'):  # nosec B108
        argv += ['--perms', '1777', '--size', tmp_bytes, '--tmpfs', tmpfs]
    argv += ['--bind', job.box, base.WORK]
    if passwd_fd is not None:
        argv += ['--perms', '0644', '--ro-bind-data', str(passwd_fd), '/etc/passwd']
    if group_fd is not None:
        argv += ['--perms', '0644', '--ro-bind-data', str(group_fd), '/etc/group']
    for path, is_dir in hidden:
        if is_dir:
            argv += ['--tmpfs', path, '--remount-ro', path]
        else:
            argv += ['--ro-bind', '/dev/null', path]
    argv += ['--remount-ro', '/dev', '--remount-ro', '/',
             '--chdir', os.path.join(base.WORK, job.cwd)]
    if status_fd is not None:
        argv += ['--json-status-fd', str(status_fd)]
    argv.append('--')
    if as_root:
        argv += [setpriv, '--reuid=%d' % job.uid, '--regid=%d' % job.uid,
                 '--clear-groups', '--inh-caps=-all', '--']
    argv += [prlimit, '--core=0', '--nofile=%d' % limits.max_open_files]
    if limits.cpu_seconds:
        # SIGXCPU at the soft limit (a clear exit status), SIGKILL a second later
        argv.append('--cpu=%d:%d' % (limits.cpu_seconds, limits.cpu_seconds + 1))
    if limits.max_file_size_mb:
        argv.append('--fsize=%d' % (limits.max_file_size_mb * base.MIB))
    if limits.memory_mb and not cgroup_procs:
        argv.append('--as=%d' % (limits.memory_mb * base.MIB))
    if limits.max_processes and not cgroup_procs:
        argv.append('--nproc=%d' % limits.max_processes)
    return argv + ['--'] + job.argv


def sandbox_env(job: base.Job, as_root: bool) -> dict[str, str]:
    src_home = os.path.join(base.WORK, 'home')
    # bandit B108: the sandbox's own /tmp (a new tmpfs), not the host's
    env = dict(job.env, PATH=base.SYSTEM_PATH, HOME=src_home, TMPDIR='/tmp',  # nosec B108
               PWD=os.path.join(base.WORK, job.cwd))
    if as_root:
        env.update(USER=USER, LOGNAME=USER)
    return env


def _memfd(name, text):
    fd = os.memfd_create(name)
    os.write(fd, text.encode())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _chown_tree(top, uid, gid):
    """Give a checkout to ``uid``: symlinks themselves, never what they point at."""
    _chown(top, uid, gid)
    for root, dirs, files in os.walk(top):  # never into a symlinked dir
        for name in dirs + files:
            _chown(os.path.join(root, name), uid, gid)


def _chown(path, uid, gid):
    st = os.lstat(path)
    # a hard link (git makes none) may be another file's other name: leave it
    if st.st_uid == uid or (st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode)):
        return
    os.chown(path, uid, gid, follow_symlinks=False)


class BwrapSandbox(base.Sandbox):
    name = 'bwrap'
    isolated = True

    def __init__(self, conf: cfg.ConfigOpts):
        super().__init__(conf)
        self.opts = conf.sandbox
        self.as_root = os.geteuid() == 0
        self.cgroups = cgroups.Hierarchy(self.opts.cgroup_root)
        self._swept = False

    # -- before a job ------------------------------------------------------------
    def check(self) -> None:
        tools = [(self.opts.bwrap_path, 'bwrap_path', 'bubblewrap'),
                 (self.opts.prlimit_path, 'prlimit_path', 'util-linux')]
        if self.as_root:
            tools.append((self.opts.setpriv_path, 'setpriv_path', 'util-linux'))
        for path, option, package in tools:
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                raise base.Unavailable(
                    'the sandbox cannot start: %s (from %s) not found ([sandbox] %s); %s'
                    % (path, package, option, base.HOW_TO_FIX))
        if not self.as_root:
            for knob, name in (('/proc/sys/kernel/unprivileged_userns_clone',
                                'kernel.unprivileged_userns_clone'),
                               ('/proc/sys/user/max_user_namespaces',
                                'user.max_user_namespaces')):
                try:
                    with open(knob) as f:
                        off = f.read().strip() == '0'
                except OSError:
                    continue
                if off:
                    raise base.Unavailable(
                        'the sandbox cannot start: user namespaces are off for ordinary '
                        'users (sysctl %s = 0); set it to 1 (or more), run the service '
                        'as root, or %s' % (name, base.HOW_TO_FIX.split(', or ', 1)[1]))

    def hand_over(self, box: str, uid: int) -> None:
        if self.as_root:
            _chown_tree(box, uid, uid)
            os.chmod(box, 0o700)

    def uses_cgroups(self) -> bool:
        return self.as_root and self.opts.cgroups and self.cgroups.available()

    def _hidden(self):
        """The service's own paths that fall inside the command's read-only view."""
        conf = self.conf
        paths = list(conf.config_file or []) + list(conf.config_dir or []) + [
            conf.state_path, conf.local.stacks_path] + list(self.opts.hide_paths)
        if conf.secrets.key_file:
            # the keys of every trigger's secrets
            paths.append(conf.secrets.key_file)
        out = []
        for path in paths:
            path = os.path.realpath(os.path.abspath(path))
            if _under(path, self.opts.ro_paths) and os.path.exists(path):
                out.append((path, os.path.isdir(path)))
        return out

    # -- one job -----------------------------------------------------------------
    def launch(self, job: base.Job) -> base.Launch:
        if self.as_root:
            try:
                owner = pwd.getpwuid(job.uid).pw_name
            except KeyError:
                owner = None
            if owner is not None:
                # a user made after the uid was handed out: its files would be the tenant's
                raise base.Unavailable(
                    'the sandbox cannot start: the project\'s uid %d now belongs to the '
                    'host user %s; give that user another uid, or move [sandbox] '
                    'uid_min..uid_max away from the host\'s users' % (job.uid, owner))
        cgroup = None
        if self.uses_cgroups():
            if not self._swept:
                self.cgroups.sweep()
                self._swept = True
            lim = job.limits
            try:
                # + bwrap itself and its pid 1 in the sandbox
                cgroup = self.cgroups.create(lim.memory_mb * base.MIB,
                                             lim.max_processes + 2 if lim.max_processes
                                             else 0)
            except OSError as e:
                raise base.Unavailable(
                    'the sandbox cannot start: no cgroup for its limits (%s); fix %s or '
                    'set [sandbox] cgroups = false (rlimits only)' % (e, self.cgroups.root))
        status_r, status_w = os.pipe()
        passwd_fd = group_fd = None
        if self.as_root and _under('/etc', self.opts.ro_paths):
            passwd_fd, group_fd = self._identity(job.uid)
        argv = build_argv(
            job, as_root=self.as_root, bwrap=self.opts.bwrap_path,
            setpriv=self.opts.setpriv_path, prlimit=self.opts.prlimit_path,
            ro_paths=self.opts.ro_paths, entries=root_entries(), hidden=self._hidden(),
            status_fd=status_w, passwd_fd=passwd_fd, group_fd=group_fd,
            cgroup_procs=[os.path.join(d, 'cgroup.procs') for d in cgroup.dirs.values()]
            if cgroup else ())
        child_fds = [fd for fd in (status_w, passwd_fd, group_fd) if fd is not None]
        return BwrapLaunch(argv, sandbox_env(job, self.as_root), '/', child_fds, status_r,
                           cgroup, job.limits)

    def _identity(self, uid):
        """/etc/passwd and /etc/group with the project's uid in them (tools look it up)."""
        def read(path):
            try:
                with open(path) as f:
                    text = f.read()
            except OSError:
                text = ''
            return text if not text or text.endswith('\n') else text + '\n'
        passwd = read('/etc/passwd') + '%s:x:%d:%d:solum-git sandbox:%s/home:/bin/sh\n' % (
            USER, uid, uid, base.WORK)
        group = read('/etc/group') + '%s:x:%d:\n' % (USER, uid)
        return _memfd('passwd', passwd), _memfd('group', group)

    def describe(self, job: base.Job) -> str:
        cgroup = self.uses_cgroups()
        who = ('uid %d' % job.uid if self.as_root else
               'the service\'s uid %d (not root: no uid switch)' % os.geteuid())
        lim = job.limits
        # bandit B108: words of the run log; no path is opened
        tmp = '/tmp %d MiB' % lim.tmp_size_mb  # nosec B108
        parts = ['cpu %s' % ('%d s per process' % lim.cpu_seconds if lim.cpu_seconds
                             else 'unlimited'),
                 'memory %s' % ('unlimited' if not lim.memory_mb else '%d MiB %s' % (
                     lim.memory_mb, 'in all (cgroup)' if cgroup
                     else 'of address space per process')),
                 'processes %s' % ('unlimited' if not lim.max_processes else '%d%s' % (
                     lim.max_processes, ' (cgroup)' if cgroup else
                     ' of the project\'s uid' if self.as_root else '')),
                 'file size %s' % ('%d MiB' % lim.max_file_size_mb
                                   if lim.max_file_size_mb else 'unlimited'),
                 'work dir %s' % ('%d MiB' % lim.max_disk_mb if lim.max_disk_mb
                                  else 'unlimited'),
                 'open files %d' % lim.max_open_files, tmp]
        return 'sandbox bwrap: %s, network %s; %s' % (
            who, 'shared with the host' if job.network else 'off (loopback only)',
            ', '.join(parts))


class BwrapLaunch(base.Launch):
    def __init__(self, argv: List[str], env: dict[str, str], cwd: str, child_fds: List[int],
                 status_r: Optional[int], cgroup: Optional[cgroups.Cgroup], limits: base.Limits):
        super().__init__(argv, env, cwd, child_fds)
        self._status_r = status_r
        self._limits = limits
        self._status = ''
        self.cgroup = cgroup
        # bwrap's pid 1 of the sandbox: its SIGKILL ends every process in it
        self.sandbox_pid: Optional[int] = None
        self._pidfd: Optional[int] = None
        self._pidfd_lock = threading.Lock()  # kill() and finish() race at an app's stop

    def _read_status(self, until_doc, timeout):
        deadline = time.monotonic() + timeout
        while self._status_r is not None:
            if until_doc and _status_docs(self._status):
                return
            wait = deadline - time.monotonic()
            if wait <= 0:
                return
            ready, _, _ = select.select([self._status_r], [], [], wait)
            if not ready:
                return
            data = os.read(self._status_r, 65536)
            if not data:
                base.close_fds([self._status_r])
                self._status_r = None
                return
            self._status += data.decode('utf-8', 'replace')

    def spawned(self, proc: subprocess.Popen) -> None:
        super().spawned(proc)
        self._read_status(until_doc=True, timeout=STATUS_TIMEOUT)
        docs = _status_docs(self._status)
        pid = docs[0].get('child-pid') if docs else None
        if not pid:
            return  # bwrap failed before its sandbox existed: started() says so
        self.sandbox_pid = pid
        try:
            self._pidfd = os.pidfd_open(pid)  # signals never reach a reused pid
        except OSError:
            pass  # already gone: setup failed, started() says so

    def kill(self) -> bool:
        with self._pidfd_lock:
            if self._pidfd is None:
                return False
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return True

    def started(self, returncode: int) -> bool:
        # killed by a signal (ours, an operator's): bwrap reports no exit code then;
        # its own failures are an exit status of 1 without one
        if returncode < 0:
            return True
        self._read_status(until_doc=False, timeout=2)
        return any('exit-code' in doc for doc in _status_docs(self._status))

    def finish(self) -> List[str]:
        notes = []
        if self.cgroup is not None:
            oom, refused = self.cgroup.counters()
            if oom:
                notes.append('memory limit reached: the kernel killed %d process(es) '
                             '([sandbox] memory_mb = %d)' % (oom, self._limits.memory_mb))
            if refused:
                notes.append('process limit reached: %d fork(s) refused '
                             '([sandbox] max_processes = %d)'
                             % (refused, self._limits.max_processes))
            self.cgroup.remove()
            self.cgroup = None
        self.close_child_fds()
        with self._pidfd_lock:
            base.close_fds([fd for fd in (self._status_r, self._pidfd) if fd is not None])
            self._status_r = self._pidfd = None
        return notes
