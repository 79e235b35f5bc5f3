"""branch protect / unprotect / list: the rules the git server applies to pushes."""
from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import common
from solum_git.server import policy

COLUMNS = ('pattern', 'push', 'allow_force_push', 'allow_delete', 'created_at',
           'updated_at')


def _args(parser, pattern=True):
    parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
    if pattern:
        parser.add_argument('pattern', metavar='PATTERN',
                            help='A branch name or a glob (*, ?, [...]), e.g. main or '
                                 '"release/*"')
    return parser


class ProtectBranch(show.ShowOne):
    """Protect the branches a name or glob matches (RW+ members only).

    The rule is replaced whole: what is not given takes its default (only RW+
    may push, no force-push, no delete).
    """

    def get_parser(self, prog_name):
        parser = _args(super().get_parser(prog_name))
        parser.add_argument('--push', choices=policy.PUSH_CHOICES,
                            default=policy.DEFAULT_PUSH,
                            help='Who may push: RW (any member who may push) or RW+ '
                                 '(RW+ members only; default)')
        parser.add_argument('--allow-force-push', action='store_true',
                            help='Take pushes that are not fast-forwards')
        parser.add_argument('--allow-delete', action='store_true',
                            help='Let the branches be deleted')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        rule = api.put(common.repo_path(repo, 'protected_branches', parsed_args.pattern),
                       {'push': parsed_args.push,
                        'allow_force_push': parsed_args.allow_force_push,
                        'allow_delete': parsed_args.allow_delete})
        return common.show(rule, COLUMNS)


class UnprotectBranch(command.Command):
    """Remove the rule of a pattern (RW+ members only)."""

    def get_parser(self, prog_name):
        return _args(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        api.delete(common.repo_path(repo, 'protected_branches', parsed_args.pattern))


class ListProtectedBranches(lister.Lister):
    """List a repo's protected branch rules."""

    def get_parser(self, prog_name):
        return _args(super().get_parser(prog_name), pattern=False)

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        return common.rows(api.get(common.repo_path(repo, 'protected_branches')),
                           COLUMNS[:4])
