from oslo_config import cfg

GROUP = 'local'

opts = [
    cfg.PortOpt('ssh_port_min', default=29418,
                help='Lowest loopback port for a local stack\'s sshd.'),
    cfg.PortOpt('ssh_port_max', default=29517,
                help='Highest loopback port for a local stack\'s sshd.'),
    cfg.PortOpt('http_port_min', default=29618,
                help='Lowest loopback port for a local stack\'s smart HTTP front.'),
    cfg.PortOpt('http_port_max', default=29717,
                help='Highest loopback port for a local stack\'s smart HTTP front.'),
    cfg.HostAddressOpt('ssh_host', default='127.0.0.1',
                       help='Address local stacks\' sshd listen on.'),
    cfg.StrOpt('sshd_path', default='/usr/sbin/sshd',
               help='The OpenSSH server binary.'),
    cfg.StrOpt('git_user',
               help='The one system user of local stacks made by solum-git '
                    'versions before per-stack users (those keep running as '
                    'it). Stacks made now run as a user of their own '
                    '(sg-<12 hex digits of the stack uuid>) when the service '
                    'runs as root. Default: solum-git. An ordinary service '
                    'user always runs every stack as itself.'),
    cfg.StrOpt('stacks_path', default='$state_path/stacks',
               help='Directory with one directory per local stack. When the '
                    'service runs as root, the stacks\' users must be able to '
                    'traverse every directory above it (o+x; the service adds '
                    'it under state_path).'),
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
