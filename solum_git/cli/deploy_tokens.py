"""deploy-token create / list / delete: git over HTTP to one repo (R or RW)."""
from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import common

COLUMNS = ('uuid', 'name', 'permission', 'username', 'token', 'clone_url', 'expires_at',
           'created_at')
LIST_COLUMNS = ('uuid', 'name', 'permission', 'username', 'expires_at', 'created_at')


def _repo_arg(parser):
    parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
    return parser


class CreateDeployToken(show.ShowOne):
    """Make a deploy token of a repo; its token and clone_url are shown this once."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('name', metavar='NAME', help='A name for the token')
        parser.add_argument('--permission', choices=('R', 'RW'), default='R',
                            help='R (clone, fetch; the default) or RW (also push)')
        parser.add_argument('--expires-at', metavar='WHEN',
                            help='When it stops working (ISO 8601, UTC); default never')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        body = {'name': parsed_args.name, 'permission': parsed_args.permission}
        if parsed_args.expires_at:
            body['expires_at'] = parsed_args.expires_at
        return common.show(api.post(common.repo_path(repo, 'deploy_tokens'), body),
                           COLUMNS)


class ListDeployTokens(lister.Lister):
    """List a repo's deploy tokens (never their secrets)."""

    def get_parser(self, prog_name):
        return _repo_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        return common.rows(api.get(common.repo_path(repo, 'deploy_tokens')),
                           LIST_COLUMNS)


class DeleteDeployToken(command.Command):
    """Revoke a deploy token (the git server refuses it after the next apply)."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('token', metavar='TOKEN', help='Its uuid')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        api.delete(common.repo_path(repo, 'deploy_tokens', parsed_args.token))
