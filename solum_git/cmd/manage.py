"""solum-git-manage: database upgrades (alembic)."""
import sys

from oslo_config import cfg

from solum_git import conf as conf_pkg
from solum_git.db import api as db_api
from solum_git.db import migration


def _upgrade(conf):
    db = db_api.Database(conf.database.connection)
    migration.upgrade(db.engine, conf.command.revision)
    print('database at %s' % migration.version(db.engine))


def _version(conf):
    db = db_api.Database(conf.database.connection)
    print(migration.version(db.engine) or 'none (run: solum-git-manage db upgrade)')


def _add_commands(subparsers):
    db = subparsers.add_parser('db', help='database schema')
    db_sub = db.add_subparsers(dest='db_command')
    db_sub.required = True
    upgrade = db_sub.add_parser('upgrade', help='migrate to the newest schema')
    upgrade.add_argument('revision', nargs='?', default='head')
    upgrade.set_defaults(func=_upgrade)
    version = db_sub.add_parser('version', help='print the schema revision')
    version.set_defaults(func=_version)


def main(argv=None):
    conf = conf_pkg.CONF
    conf.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_commands))
    conf_pkg.parse_args(sys.argv[1:] if argv is None else argv, conf)
    import os
    os.makedirs(conf.state_path, mode=0o700, exist_ok=True)
    conf.command.func(conf)
    return 0


if __name__ == '__main__':
    sys.exit(main())
