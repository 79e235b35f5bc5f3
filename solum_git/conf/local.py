from oslo_config import cfg

GROUP = 'local'

opts = [
    cfg.PortOpt('ssh_port_min', default=29418,
                help='Lowest loopback port for a local stack\'s sshd.'),
    cfg.PortOpt('ssh_port_max', default=29517,
                help='Highest loopback port for a local stack\'s sshd.'),
    cfg.HostAddressOpt('ssh_host', default='127.0.0.1',
                       help='Address local stacks\' sshd listen on.'),
    cfg.StrOpt('sshd_path', default='/usr/sbin/sshd',
               help='The OpenSSH server binary.'),
    cfg.StrOpt('git_user',
               help='System user that owns local stacks when the service '
                    'runs as root (created if missing). Default: '
                    'solum-git. An ordinary user always uses itself.'),
    cfg.StrOpt('stacks_path', default='$state_path/stacks',
               help='Directory with one directory per local stack. When the '
                    'service runs as root, git_user must be able to traverse '
                    'every directory above it.'),
    cfg.StrOpt('bootstrap_script',
               help='The tenant git server bootstrap script. Default: '
                    'images/bootstrap.sh of this source tree, else '
                    '<prefix>/share/solum-git/bootstrap.sh.'),
    cfg.IntOpt('start_timeout', default=10, min=1,
               help='Seconds a local sshd may take to answer after start.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
