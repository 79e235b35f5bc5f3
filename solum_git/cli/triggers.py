"""trigger add / list / delete: the pipelines a push to matching branches starts."""
import argparse

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
    'local': (('test_cmd', 'test_cmd'), ('run_cmd', 'run_cmd'), ('env', 'env'),
              ('secret_env', 'secrets'), ('health_path', 'health_path'),
              ('health_timeout', 'health_timeout')),
    'webhook': (('url', 'url'), ('secret', 'secret')),
    'solum': (('app_id', 'app_id'), ('solum_url', 'solum_url'), ('actions', 'actions'),
              ('create_app', 'create_app'), ('languagepack', 'languagepack'),
              # the settings of an app the trigger makes
              ('test_cmd', 'test_cmd'), ('run_cmd', 'run_cmd')),
}


def _repo_arg(parser):
    parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
    return parser


def _variable(value):
    name, sep, text = value.partition('=')
    if not sep or not name:
        raise argparse.ArgumentTypeError('must be NAME=VALUE')
    return name, text


class _Variables(argparse.Action):
    """Repeated NAME=VALUE options into one {NAME: VALUE}."""

    def __call__(self, parser, namespace, values, option_string=None):
        found = dict(getattr(namespace, self.dest) or {})
        name, text = values
        found[name] = text
        setattr(namespace, self.dest, found)


def _actions(value):
    return [a.strip() for a in value.split(',') if a.strip()]


def config_from(parsed_args):
    """The trigger's config from the options that belong to its type.

    An option of another type is refused here, before anything is sent, so a
    mistyped command never creates a trigger that ignores half of it.
    """
    config = {}
    types_of = {}
    for type_, options in CONFIG_OPTIONS.items():
        for dest, key in options:
            types_of.setdefault((dest, key), []).append(type_)
    for (dest, key), types in types_of.items():
        value = getattr(parsed_args, dest)
        if value is None:
            continue
        if parsed_args.type not in types:
            raise client_mod.ApiError(
                '--%s: only for --type %s triggers' % (dest.replace('_', '-'),
                                                       ' or '.join(types)))
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
        local.add_argument('--env', type=_variable, action=_Variables, metavar='NAME=VALUE',
                           help='An environment variable of both commands (repeat it)')
        local.add_argument('--secret-env', type=_variable, action=_Variables,
                           metavar='NAME=VALUE',
                           help='Like --env, kept encrypted: shown as *** and masked '
                                'in logs (repeat it)')
        local.add_argument('--health-path', metavar='PATH',
                           help='GET it on the new app: it must answer 2xx/3xx before '
                                'the previous app stops')
        local.add_argument('--health-timeout', type=float, metavar='SECONDS',
                           help='How long the health check may take')
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
        solum.add_argument('--create-app', action='store_const', const=True,
                           help='Make the Solum app from the repo (instead of --app-id); '
                                'needs --languagepack, takes --test-cmd and --run-cmd')
        solum.add_argument('--languagepack', metavar='NAME',
                           help='The Solum language pack of the app --create-app makes')
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
