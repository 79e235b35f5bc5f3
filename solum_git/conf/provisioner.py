from oslo_config import cfg

GROUP = 'provisioner'

opts = [
    cfg.StrOpt('driver', default='local',
               help='Provisioner that creates tenant git servers: an entry '
                    'point name in solum_git.provisioners (local, heat).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
