from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = 'solum'

opts = [
    cfg.URIOpt('url', schemes=['http', 'https'], default='http://127.0.0.1:9777',
               help='Solum API a solum trigger without solum_url calls.'),
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'a Keystone session from this group\'s '
                                     'auth options (a trust-scoped service user '
                                     'in production)'),
                        ('noauth', 'X-User-Id / X-Project-Id / X-Roles headers '
                                   'of the trigger\'s owner (Solum without '
                                   'Keystone: development and tests)')],
               help='How workflow requests to Solum are authenticated. '
                    '(``timeout`` below, default 15 s, bounds each request.)'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)


def list_opts():
    return {GROUP: (opts + ks_loading.get_session_conf_options()
                    + ks_loading.get_auth_common_conf_options())}
