from oslo_config import cfg

GROUP = 'hook'

opts = [
    cfg.URIOpt('callback_url', schemes=['http', 'https'],
               help='URL git servers post push events to. Default: '
                    '<[api] public_url>/v1/hooks/post-receive, else '
                    'http://<api host>:<api port>/v1/hooks/post-receive'),
    cfg.IntOpt('max_skew', default=300, min=1,
               help='Seconds a signed callback stays valid.'),
    cfg.IntOpt('stream_seconds', default=0, min=0, max=600,
               help='Seconds the post-receive hook shows the log of the local '
                    'runs a push started, as remote: lines, while the client '
                    'waits (0: it only prints their URLs). A client that hangs '
                    'up does not stop the run.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
