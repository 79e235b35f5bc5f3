"""The service's own files are the service's alone.

Git server users and sandbox uids share this machine with the service: the
database, the config, the admin keys and everything else under
``state_path`` must be unreadable to them. Each service process starts with
umask 077 (so SQLite, logs and admin clones are born 0600/0700) and puts
right what an older version or an operator left group- or world-readable.
``state_path`` itself may keep its execute bits (git users walk through it to
their homes under ``stacks_path``): traverse, never list.
"""
import logging
import os
import stat

LOG = logging.getLogger(__name__)

SQLITE_SUFFIXES = ('', '-wal', '-shm', '-journal')


def umask():
    """Files this process makes from now on are its own (0600, dirs 0700)."""
    os.umask(0o077)


def protect(conf):
    """umask 077 for this process; fix the modes of the service's files."""
    umask()
    state = conf.state_path
    os.makedirs(state, mode=0o700, exist_ok=True)
    _strip(state, 0o066 if os.geteuid() == 0 else 0o077)
    for name in os.listdir(state):
        path = os.path.join(state, name)
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            _strip(path, 0o077)
        elif stat.S_ISDIR(st.st_mode):
            # no listing of what other modules keep here (stacks, runs); their
            # own code sets what lies below
            _strip(path, 0o066)
    _tree(os.path.join(state, 'admin'))
    _tree(os.path.join(state, 'apps'))   # the local runner's app states
    for path in _sqlite_files(conf.database.connection):
        _strip(path, 0o077)
    for path in _config_files(conf):
        _strip(path, 0o077)


def read_untrusted(path, max_bytes):
    """A file someone else may control: its bytes if it is a regular file.

    No symlink is followed and a FIFO does not block; None for anything else
    or for a file over ``max_bytes``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        return os.read(fd, max_bytes + 1)
    finally:
        os.close(fd)


def _strip(path, bits):
    """Remove ``bits`` from the mode of ``path`` if this process owns it."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    # only files and directories: a config file given as /dev/null (a device
    # root owns) must not lose its modes
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)) \
            or not st.st_mode & bits:
        return
    if st.st_uid != os.geteuid():
        LOG.warning('%s is readable by others (mode %o) and not ours to change: '
                    'make it private', path, st.st_mode & 0o7777)
        return
    os.chmod(path, st.st_mode & 0o7777 & ~bits)
    LOG.info('%s: mode %o -> %o (service files are private)', path,
             st.st_mode & 0o7777, st.st_mode & 0o7777 & ~bits)


def _tree(top):
    """Everything under ``top`` (no symlinks followed) 0700/0600."""
    if not os.path.isdir(top) or os.path.islink(top):
        return
    _strip(top, 0o077)
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            _strip(os.path.join(root, name), 0o077)


def _sqlite_files(connection):
    prefix = 'sqlite:///'
    if not (connection or '').startswith(prefix):
        return []
    path = connection[len(prefix):].split('?', 1)[0]
    if not path or path == ':memory:':
        return []
    return [path + suffix for suffix in SQLITE_SUFFIXES]


def _config_files(conf):
    files = list(getattr(conf, 'config_file', None) or [])
    for directory in getattr(conf, 'config_dir', None) or []:
        if os.path.isdir(directory):
            files += [os.path.join(directory, n) for n in sorted(os.listdir(directory))
                      if n.endswith('.conf')]
    return files
