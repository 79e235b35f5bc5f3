from oslo_config import cfg

GROUP = 'git_http'

opts = [
    cfg.StrOpt('public_url',
               help='Base URL of the git servers\' smart HTTP when an operator\'s '
                    'TLS proxy fronts them, e.g. https://git.example.com/{stack}: '
                    '{stack} is replaced by the stack uuid. Repo views then show '
                    '<public_url>/<repo>.git. Default: each server\'s own front '
                    '(http://127.0.0.1:<port> for local stacks, https://<address> '
                    'for Heat stacks).'),
    cfg.IntOpt('pin_max_age', default=86400, min=60,
               help='Seconds a pinned view (/pin/<sha>/<repo>.git) lives after '
                    'its last fetch before the server removes it.'),
    cfg.StrOpt('python', default='/usr/bin/python3',
               help='The python3 that runs the HTTP front on local git servers '
                    '(it needs only the standard library).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
