"""member set / list / remove: who may read (R), push (RW) or rewind (RW+) a repo."""
from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import common
from solum_git.common import access

COLUMNS = ('user_id', 'permission', 'created_at', 'updated_at')


def _repo_arg(parser):
    parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
    return parser


class SetMember(show.ShowOne):
    """Give a user access to a repo, or change it (R, RW or RW+, as in gitolite)."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('user', metavar='USER', help='User id')
        parser.add_argument('permission', metavar='PERMISSION',
                            choices=[p.value for p in access.PERMISSIONS],
                            help='R (read), RW (push) or RW+ (push, rewind, delete '
                                 'branches; manage members and triggers)')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        member = api.put(common.repo_path(repo, 'members', parsed_args.user),
                         {'permission': parsed_args.permission})
        return common.show(member, COLUMNS)


class ListMembers(lister.Lister):
    """List who has access to a repo."""

    def get_parser(self, prog_name):
        return _repo_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        return common.rows(api.get(common.repo_path(repo, 'members')), COLUMNS[:3])


class RemoveMember(command.Command):
    """Take a user's access to a repo away."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('user', metavar='USER', help='User id')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        api.delete(common.repo_path(repo, 'members', parsed_args.user))
