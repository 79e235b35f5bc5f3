from oslo_config import cfg

GROUP = 'sandbox'

opts = [
    cfg.StrOpt('driver', default='bwrap',
               help='Sandbox for tenant commands (the local runner\'s test_cmd '
                    'and run_cmd): an entry point in solum_git.sandboxes. '
                    '"bwrap" (bubblewrap) confines each command; "none" runs it '
                    'as the service itself, with no isolation and no limits but '
                    'run_timeout: only for a single trusted developer. If the '
                    'configured sandbox cannot start, runs end in ERROR; '
                    'nothing falls back to "none".'),
    cfg.StrOpt('bwrap_path', default='/usr/bin/bwrap',
               help='The bubblewrap program (Debian package bubblewrap).'),
    cfg.StrOpt('setpriv_path', default='/usr/bin/setpriv',
               help='setpriv (util-linux), used inside the sandbox to switch '
                    'to the project\'s uid when the service runs as root.'),
    cfg.StrOpt('prlimit_path', default='/usr/bin/prlimit',
               help='prlimit (util-linux), used inside the sandbox to set the '
                    'resource limits of the command.'),
    cfg.IntOpt('uid_min', default=1900000000, min=65536, max=4294967293,
               help='Lowest unix uid handed to a project: each project gets '
                    'its own uid (and gid) from uid_min..uid_max, once, kept '
                    'in the database and never reused. Uids that exist in '
                    '/etc/passwd, fall in an /etc/subuid range or are the '
                    'service\'s own are skipped. Used when the service runs '
                    'as root.'),
    cfg.IntOpt('uid_max', default=1999999999, min=65536, max=4294967293,
               help='Highest unix uid handed to a project (see uid_min).'),
    cfg.IntOpt('cpu_seconds', default=600, min=0,
               help='CPU seconds each process of a test_cmd may use '
                    '(RLIMIT_CPU; 0: no limit). Wall time is [pipelines] '
                    'run_timeout.'),
    cfg.IntOpt('app_cpu_seconds', default=0, min=0,
               help='CPU seconds each process of a run_cmd app may use '
                    '(RLIMIT_CPU; 0: no limit, since an app runs for good).'),
    cfg.IntOpt('memory_mb', default=2048, min=0,
               help='Memory of one test_cmd or app, in MiB (0: no limit). As '
                    'root with a writable memory cgroup (v1): all its '
                    'processes together, page cache and /tmp included; '
                    'otherwise: the address space of each process '
                    '(RLIMIT_AS).'),
    cfg.IntOpt('max_processes', default=512, min=0,
               help='Processes and threads of one test_cmd or app (0: no '
                    'limit). As root with a writable pids cgroup (v1): that '
                    'run\'s processes; as root without one: all processes of '
                    'the project\'s uid (RLIMIT_NPROC); as an ordinary user: '
                    'that run\'s processes (RLIMIT_NPROC in its user '
                    'namespace).'),
    cfg.IntOpt('max_file_size_mb', default=1024, min=0,
               help='Largest file a command may write, in MiB (RLIMIT_FSIZE; '
                    '0: no limit).'),
    cfg.IntOpt('max_disk_mb', default=2048, min=0,
               help='Disk a run\'s work dir (checkout, $HOME) may take, in '
                    'MiB (0: no limit); every file counts at least 4 KiB. '
                    'A watcher measures it every disk_check_interval seconds '
                    'and kills the command that went over.'),
    cfg.FloatOpt('disk_check_interval', default=2.0, min=0.1,
                 help='Seconds between two measures of a work dir\'s size '
                      '(stretched to ten times the last measure\'s duration, '
                      'so a huge tree costs at most a tenth of a core).'),
    cfg.IntOpt('max_open_files', default=4096, min=16,
               help='Open files per process (RLIMIT_NOFILE).'),
    cfg.IntOpt('tmp_size_mb', default=256, min=1,
               help='Size of the private /tmp (and of /dev/shm) of each '
                    'command, in MiB: a tmpfs, gone when the command ends.'),
    cfg.BoolOpt('test_network', default=True,
                help='Let test_cmd use the network (builds fetch packages). '
                     'With it the command shares the host\'s network: it '
                     'reaches everything on loopback, the API included. '
                     'Off: a network namespace of its own with only '
                     'loopback. run_cmd always shares the host\'s network '
                     '(its app must answer at its app_url).'),
    cfg.BoolOpt('cgroups', default=True,
                help='As root, put each command in its own memory and pids '
                     'cgroup (v1, under cgroup_root) for memory_mb and '
                     'max_processes; without a writable one, rlimits are '
                     'used (see memory_mb, max_processes).'),
    cfg.StrOpt('cgroup_root', default='/sys/fs/cgroup',
               help='Where the cgroup v1 hierarchies (memory, pids) are '
                    'mounted.'),
    cfg.ListOpt('ro_paths', default=['/usr', '/etc'],
                help='Host directories a command sees, read-only (plus /bin, '
                     '/sbin and /lib* as on the host). Nothing else of the '
                     'host is visible.'),
    cfg.ListOpt('hide_paths', default=[],
                help='Paths under ro_paths a command must not see (an empty '
                     'directory or file instead). The service\'s config '
                     'files, state_path and stacks_path are always hidden.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
