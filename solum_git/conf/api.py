from oslo_config import cfg

GROUP = 'api'

opts = [
    cfg.HostAddressOpt('host', default='127.0.0.1',
                       help='Address the API listens on.'),
    cfg.PortOpt('port', default=9778, help='Port the API listens on.'),
    cfg.StrOpt('auth_strategy', default='noauth',
               choices=[('noauth', 'trust X-Project-Id, X-User-Id and X-Roles '
                                   '(development only)'),
                        ('keystone', 'keystonemiddleware auth_token')],
               help='How API requests are authenticated.'),
    cfg.IntOpt('max_request_body_size', default=1024 * 1024, min=1024,
               help='Largest request body accepted, in bytes (413 above it).'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='Largest page size a list request may ask for.'),
    cfg.IntOpt('default_limit', default=100, min=1,
               help='Page size of a list request that gives no limit.'),
    cfg.IntOpt('workers', default=8, min=1,
               help='Threads serving API requests.'),
    cfg.StrOpt('public_url',
               help='Base URL clients reach the API at (used in "uri" '
                    'fields); default: from each request.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
