"""[backup] and [backup_swift]: backups of every repo and where they are kept."""
from oslo_config import cfg

from solum_git.conf import keystone_auth

GROUP = 'backup'
SWIFT_GROUP = 'backup_swift'

opts = [
    cfg.StrOpt('store', default='local',
               help='Where repo backups go: "local" (a directory, local_path), '
                    '"swift" (the OpenStack object store, [backup_swift]) or '
                    '"none" (no backups: a lost repo cannot be restored). A '
                    'stevedore entry point of solum_git.backup_stores.'),
    cfg.StrOpt('local_path', default='$state_path/backups',
               help='The local store\'s directory (one directory per stack, '
                    'then per repo).'),
    cfg.IntOpt('max_lag', default=60, min=1,
               help='Seconds within which a push is covered by a backup. The '
                    'engine looks at each stack this often at least (and '
                    'sooner after a push).'),
    cfg.IntOpt('full_every', default=20, min=0,
               help='Increments after which the next backup of a repo is a '
                    'new full one (a new chain): bounds the restore chain.'),
    cfg.IntOpt('full_interval', default=7 * 24 * 3600, min=60,
               help='Seconds after which the next backup of a repo is a new '
                    'full one, however short its chain.'),
    cfg.IntOpt('keep_chains', default=2, min=1,
               help='Chains kept per repo (the newest); older ones are removed '
                    'with their bundles once a newer full backup is verified.'),
    cfg.IntOpt('keep_deleted_days', default=7, min=0,
               help='Days a deleted repo\'s backups are kept, so that the '
                    'delete can be undone (POST /v1/infrastructure/repos '
                    '{name, restore_from}).'),
    cfg.IntOpt('threads', default=4, min=1,
               help='Bundles one engine takes at the same time (over one ssh '
                    'connection per git server).'),
]

swift_opts = [
    cfg.StrOpt('container_prefix', default='solum-git-backups-',
               help='Containers are named this plus the stack uuid (one per '
                    'stack); segments go to <container>_segments.'),
    cfg.IntOpt('segment_size', default=256 * 1024 * 1024, min=1024,
               help='Bundles larger than this are uploaded as a static large '
                    'object in segments of this many bytes.'),
    cfg.StrOpt('region_name', help='Region of the object-store endpoint.'),
    cfg.StrOpt('endpoint_type', default='publicURL',
               help='Interface of the object-store endpoint.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)
    conf.register_opts(swift_opts, group=SWIFT_GROUP)
    keystone_auth.register(conf, SWIFT_GROUP)


def list_opts():
    return {GROUP: opts, SWIFT_GROUP: swift_opts + keystone_auth.sample_opts()}
