"""trigger add / list / delete: the pipelines a push to matching branches starts."""
from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import client as client_mod
from solum_git.cli import common

COLUMNS = ('uuid', 'type', 'branches', 'config', 'user_id', 'created_at')
LIST_COLUMNS = ('uuid', 'type', 'branches', 'config')
TYPES = ('local', 'webhook', 'solum')
# option dest -> config key, per trigger type
CONFIG_OPTIONS = {
    'local': (('test_cmd', 'test_cmd'), ('run_cmd', 'run_cmd')),
    'webhook': (('url', 'url'), ('secret', 'secret')),
    'solum': (('app_id', 'app_id'), ('solum_url', 'solum_url'), ('actions', 'actions')),
}


def _repo_arg(parser):
    parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
    return parser


def _actions(value):
    return [a.strip() for a in value.split(',') if a.strip()]


def config_from(parsed_args):
    """The trigger's config from the options that belong to its type.

    An option of another type is refused here, before anything is sent, so a
    mistyped command never creates a trigger that ignores half of it.
    """
    config = {}
    for type_, options in CONFIG_OPTIONS.items():
        for dest, key in options:
            value = getattr(parsed_args, dest)
            if value is None:
                continue
            if type_ != parsed_args.type:
                raise client_mod.ApiError(
                    '--%s: only for --type %s triggers' % (dest.replace('_', '-'),
                                                           type_))
            config[key] = value
    return config


class AddTrigger(show.ShowOne):
    """Add a trigger: local (test/run commands), webhook (signed POST) or solum."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('--type', required=True, choices=TYPES)
        parser.add_argument('--branches', metavar='GLOB',
                            help='Branch name or glob to react to (default: the '
                                 "repo's default branch)")
        local = parser.add_argument_group('--type local')
        local.add_argument('--test-cmd', metavar='CMD',
                           help='Shell command that tests the pushed commit')
        local.add_argument('--run-cmd', metavar='CMD',
                           help='Shell command that (re)starts the app once the '
                                'tests pass (it gets its port in $PORT)')
        webhook = parser.add_argument_group('--type webhook')
        webhook.add_argument('--url', help='Where the push event is POSTed')
        webhook.add_argument('--secret',
                             help='Shared secret for the X-Hub-Signature-256 header')
        solum = parser.add_argument_group('--type solum')
        solum.add_argument('--app-id', help='The Solum app to run a workflow of')
        solum.add_argument('--solum-url', help="Solum's API (default: from the "
                                               'service catalog)')
        solum.add_argument('--actions', type=_actions, metavar='A[,A...]',
                           help='Workflow actions (default: unittest,build,deploy)')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        config = config_from(parsed_args)
        repo = api.find_repo(parsed_args.repo)
        body = {'type': parsed_args.type, 'config': config}
        if parsed_args.branches is not None:
            body['branches'] = parsed_args.branches
        trigger = api.post(common.repo_path(repo, 'triggers'), body)
        return common.show(trigger, COLUMNS)


class ListTriggers(lister.Lister):
    """List a repo's triggers."""

    def get_parser(self, prog_name):
        return _repo_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        return common.rows(api.get(common.repo_path(repo, 'triggers')), LIST_COLUMNS)


class DeleteTrigger(command.Command):
    """Delete a trigger."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('trigger', metavar='TRIGGER', help='Trigger uuid')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        api.delete(common.repo_path(repo, 'triggers', parsed_args.trigger))
