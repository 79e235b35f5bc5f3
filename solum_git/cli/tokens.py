"""token create / list / delete: personal access tokens (git over HTTP as yourself)."""
from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import common

PATH = common.INFRA + '/tokens'
COLUMNS = ('uuid', 'name', 'username', 'token', 'expires_at', 'created_at')
LIST_COLUMNS = ('uuid', 'name', 'username', 'expires_at', 'created_at')


class CreateToken(show.ShowOne):
    """Make a personal access token; it is shown this once.

    Clone with ``http://<your user id>:<token>@host:port/<repo>.git`` (the
    repo's http_url with them as its user info).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME', help='A name for the token')
        parser.add_argument('--expires-at', metavar='WHEN',
                            help='When it stops working (ISO 8601, UTC); default never')
        return parser

    def take_action(self, parsed_args):
        body = {'name': parsed_args.name}
        if parsed_args.expires_at:
            body['expires_at'] = parsed_args.expires_at
        return common.show(common.client(self).post(PATH, body), COLUMNS)


class ListTokens(lister.Lister):
    """List your personal access tokens (never their secrets)."""

    def get_parser(self, prog_name):
        return common.add_paging(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        tokens = common.client(self).list(PATH, **common.paging(parsed_args))
        return common.rows(tokens, LIST_COLUMNS)


class DeleteToken(command.Command):
    """Revoke a personal access token (the git servers refuse it after the next apply)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('token', metavar='TOKEN', help='Its uuid')
        return parser

    def take_action(self, parsed_args):
        common.client(self).delete('%s/%s' % (PATH, parsed_args.token))
