"""deploy-key add / list / delete: an SSH key with access to one repo only."""
from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import common
from solum_git.cli import keys

COLUMNS = ('uuid', 'name', 'type', 'fingerprint', 'permission', 'created_at')


def _repo_arg(parser):
    parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
    return parser


class AddDeployKey(show.ShowOne):
    """Give an SSH public key access to one repo (read-only unless --permission RW)."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('public_key_file', metavar='PUBLIC_KEY_FILE',
                            help='The public key file ("-" reads standard input)')
        parser.add_argument('--name', help='A name for the key (default: its comment)')
        parser.add_argument('--permission', choices=('R', 'RW'), default='R',
                            help='R (clone, fetch; the default) or RW (also push)')
        return parser

    def take_action(self, parsed_args):
        if parsed_args.public_key_file == '-':
            public_key = self.app.stdin.read(keys.MAX_KEY_FILE).strip()
        else:
            public_key = keys.read_key_file(parsed_args.public_key_file)
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        body = {'public_key': public_key, 'permission': parsed_args.permission}
        if parsed_args.name is not None:
            body['name'] = parsed_args.name
        return common.show(api.post(common.repo_path(repo, 'deploy_keys'), body),
                           COLUMNS)


class ListDeployKeys(lister.Lister):
    """List a repo's deploy keys."""

    def get_parser(self, prog_name):
        return _repo_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        return common.rows(api.get(common.repo_path(repo, 'deploy_keys')), COLUMNS)


class DeleteDeployKey(command.Command):
    """Remove a deploy key (it loses access on the next apply)."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('key', metavar='KEY', help='Its uuid')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        api.delete(common.repo_path(repo, 'deploy_keys', parsed_args.key))
