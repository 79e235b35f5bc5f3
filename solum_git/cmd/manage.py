"""solum-git-manage: database upgrades, the local git servers, a sandbox check,
secrets keys."""
import sys

from oslo_config import cfg

from solum_git.common import private
from solum_git import conf as conf_pkg
from solum_git.db import api as db_api
from solum_git.db import migration


def _upgrade(conf):
    from solum_git.common import secretbox
    db = db_api.Database(conf.database.connection)
    try:
        migration.upgrade(db.engine, conf.command.revision, conf)
    except secretbox.NoKey as e:
        print('database at %s: %s' % (migration.version(db.engine), e), file=sys.stderr)
        return 1
    print('database at %s' % migration.version(db.engine))


def _version(conf):
    db = db_api.Database(conf.database.connection)
    print(migration.version(db.engine) or 'none (run: solum-git-manage db upgrade)')


def _stacks(conf):
    """stacks list|stop|start: one line per stack, exit 1 if any failed."""
    from solum_git import bootstrap
    from solum_git.common import secretbox
    from solum_git.engine import servers
    root = bootstrap.build(conf, with_engine=False)
    args = conf.command
    uuids = list(getattr(args, 'uuids', None) or [])
    if args.stacks_command != 'list' and not uuids and not args.all:
        print('name stacks by UUID, or --all', file=sys.stderr)
        return 2
    failed = 0
    try:
        stacks = servers.select(root.db, root.provisioner, secretbox.SecretBox(conf), uuids)
        for stack in stacks:
            try:
                if args.stacks_command == 'stop':
                    was = servers.stop(root.db, root.provisioner, stack)
                    print('%s: %s' % (stack.uuid, 'stopped' if was else 'was not running'))
                elif args.stacks_command == 'migrate':
                    old = stack.ssh_user
                    user = servers.migrate(root.db, root.provisioner, stack)
                    print('%s: now user %s (git URLs: ssh://%s@... instead of ssh://%s@...; '
                          'the engine sets it up on its next pass)'
                          % (stack.uuid, user, user, old))
                elif args.stacks_command == 'start':
                    servers.start(root.db, root.provisioner, stack)
                    print('%s: %s' % (stack.uuid,
                                      servers.status(root.provisioner, stack)))
                else:
                    print('%s  %-10s %-9s %s@%s:%s  %s' % (
                        stack.uuid, stack.project_id, stack.status, stack.ssh_user,
                        stack.ssh_host, stack.ssh_port,
                        servers.status(root.provisioner, stack)))
            except Exception as e:  # one stack's failure must not hide the others
                print('%s: %s' % (stack.uuid, e), file=sys.stderr)
                failed += 1
    except (servers.ServerOpError, NotImplementedError, secretbox.NoKey,
            secretbox.Undecryptable) as e:
        print(str(e), file=sys.stderr)
        return 1
    finally:
        root.db.dispose()
    return 1 if failed else 0


def _sandbox_check(conf):
    from solum_git.pipelines import local
    ok, message = local.check_sandbox(conf)
    print(('OK: %s' if ok else 'FAILED: %s') % message)
    return 0 if ok else 1


def _secrets(conf):
    """secrets new-key | rotate: a Fernet key to add; every secret under the first key."""
    from solum_git.common import secretbox
    if conf.command.secrets_command == 'new-key':
        print(secretbox.new_key())
        return 0
    db = db_api.Database(conf.database.connection)
    try:
        count = _rotate_all(db, secretbox.SecretBox(conf))
    except (secretbox.NoKey, secretbox.Undecryptable) as e:
        print('nothing changed: %s' % e, file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print('%d secrets now under the first [secrets] key' % count)
    return 0


def _rotate_all(db, box):
    """Every trigger's secrets and stack's private keys under the first key, in one
    transaction (a token no key opens changes nothing: Undecryptable); how many."""
    from solum_git.db import models
    from solum_git.db import stack_keys
    import sqlalchemy as sa
    count = 0
    with db.writer() as session:
        for row in session.execute(sa.select(models.Trigger)).scalars().all():
            sealed = (row.config or {}).get('secrets')
            if sealed:
                row.config = dict(row.config, secrets={
                    name: box.rotate(token) for name, token in sealed.items()})
                count += len(sealed)
        for row in session.execute(sa.select(models.Stack)).scalars().all():
            for name in stack_keys.COLUMNS:
                if getattr(row, name):
                    setattr(row, name, box.rotate(getattr(row, name)))
                    count += 1
    return count


def _add_commands(subparsers):
    db = subparsers.add_parser('db', help='database schema')
    db_sub = db.add_subparsers(dest='db_command')
    db_sub.required = True
    upgrade = db_sub.add_parser('upgrade', help='migrate to the newest schema')
    upgrade.add_argument('revision', nargs='?', default='head')
    upgrade.set_defaults(func=_upgrade)
    version = db_sub.add_parser('version', help='print the schema revision')
    version.set_defaults(func=_version)
    sandbox = subparsers.add_parser('sandbox', help='the sandbox of tenant commands')
    sandbox_sub = sandbox.add_subparsers(dest='sandbox_command')
    sandbox_sub.required = True
    check = sandbox_sub.add_parser('check', help='run one command in the configured '
                                   'sandbox, as runs do; exit 1 if it cannot')
    check.set_defaults(func=_sandbox_check)

    secrets = subparsers.add_parser('secrets', help="local triggers' config.secrets and "
                                    "stacks' private keys")
    secrets_sub = secrets.add_subparsers(dest='secrets_command')
    secrets_sub.required = True
    secrets_sub.add_parser('new-key', help='print a new Fernet key for [secrets] '
                           'fernet_keys').set_defaults(func=_secrets)
    secrets_sub.add_parser('rotate', help='re-encrypt every stored secret under the '
                           'first key (then older keys can go)').set_defaults(
                               func=_secrets)

    stacks = subparsers.add_parser('stacks', help="this machine's git servers (local "
                                   'provisioner)')
    stacks_sub = stacks.add_subparsers(dest='stacks_command')
    stacks_sub.required = True
    listing = stacks_sub.add_parser('list', help='stacks and their server processes')
    listing.set_defaults(func=_stacks)
    for name, text in (('stop', 'stop git servers (until start or the next engine '
                        'start)'), ('start', 'start stopped git servers now'),
                       ('migrate', 'give stacks of the shared unix user one of their '
                        'own (their git URLs change)')):
        sub = stacks_sub.add_parser(name, help=text)
        sub.add_argument('uuids', nargs='*', metavar='UUID')
        sub.add_argument('--all', action='store_true', help='every stack')
        sub.set_defaults(func=_stacks)


def main(argv=None):
    conf = conf_pkg.CONF
    conf.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_commands))
    conf_pkg.parse_args(sys.argv[1:] if argv is None else argv, conf)
    private.protect(conf)
    return conf.command.func(conf) or 0


if __name__ == '__main__':
    sys.exit(main())
