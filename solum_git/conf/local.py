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
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
