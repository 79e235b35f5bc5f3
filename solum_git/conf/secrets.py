from oslo_config import cfg

GROUP = 'secrets'

opts = [
    cfg.ListOpt('fernet_keys', default=[], secret=True,
                help='Fernet keys (urlsafe base64 of 32 bytes, '
                     '`solum-git-manage secrets new-key`) that encrypt at rest the '
                     'config.secrets of local triggers and the private keys of '
                     'every stack (the same keys for every engine). The first one '
                     'encrypts; every one decrypts, so a key is rotated by '
                     'putting a new one first, restarting, running '
                     '`solum-git-manage secrets rotate`, then dropping the old one '
                     '(docs/pipelines.rst). Empty, with no key_file: the engine '
                     'does not start and triggers cannot have secrets.'),
    cfg.StrOpt('key_file',
               help='A file with one Fernet key per line (first one encrypts), '
                    'read instead of fernet_keys when set; it should be readable by the '
                    'service user only.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
