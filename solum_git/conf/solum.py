"""[solum]: the Solum API that solum triggers call."""
from oslo_config import cfg

from solum_git.conf import keystone_auth

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
    cfg.IntOpt('deploy_token_max_age', default=7 * 24 * 3600, min=1,
               help='Seconds a solum trigger\'s deploy token is handed to Solum '
                    'before a run makes the next one; the one before is revoked at '
                    'the rotation after (a token lives at most twice this).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)
    keystone_auth.register(conf, GROUP)


def list_opts():
    return {GROUP: opts + keystone_auth.sample_opts()}
