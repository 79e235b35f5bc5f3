from oslo_config import cfg

GROUP = 'coordination'

opts = [
    cfg.StrOpt('backend_url', secret=True,
               help='tooz URL of the coordination backend engines share to '
                    'split the stacks among themselves (a hash ring over the '
                    'live engines) and to lock a stack while it is applied: '
                    'redis://HOST:6379 across hosts, file:///DIR on one host. '
                    'Unset: each engine may take any stack and the database '
                    'lease alone keeps two engines apart (one engine).'),
    cfg.FloatOpt('heartbeat', default=1.0, min=0.2, max=60,
                 help='Seconds between an engine\'s heartbeats and looks at '
                      'the group. An engine not heard from for 3 heartbeats '
                      'is dead: its stacks and runs go to the others.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
