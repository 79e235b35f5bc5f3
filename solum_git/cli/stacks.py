"""stack list / show / resync: the project's git server (one per project)."""
from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import common

PATH = common.INFRA + '/stacks'
LIST_COLUMNS = ('uuid', 'name', 'status', 'provisioner', 'ssh_host', 'ssh_port')
FIRST = ('uuid', 'name', 'kind', 'status', 'status_reason', 'provisioner', 'ssh_host',
         'ssh_port', 'ssh_user', 'ssh_host_keys', 'project_id', 'user_id',
         'heat_stack_id', 'image_id', 'created_at', 'updated_at')


def _stack_arg(parser):
    parser.add_argument('stack', metavar='STACK', help='Stack name or uuid')
    return parser


class ListStacks(lister.Lister):
    """List git servers (your project's; an admin sees all)."""

    def get_parser(self, prog_name):
        return common.add_paging(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        stacks = common.client(self).list(PATH, **common.paging(parsed_args))
        return common.rows(stacks, LIST_COLUMNS)


class ShowStack(show.ShowOne):
    """Show a git server: status, SSH address and host keys."""

    def get_parser(self, prog_name):
        return _stack_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        stack = common.client(self).find_stack(parsed_args.stack)
        return common.show_all(stack, FIRST, hide=('uri', 'repos_uri', 'type'))


class ResyncStack(command.Command):
    """Re-apply every repo, member and key to the git server now."""

    def get_parser(self, prog_name):
        return _stack_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        stack = api.find_stack(parsed_args.stack)
        api.post('%s/%s/actions' % (PATH, stack['uuid']), {'action': 'resync'})
        self.app.stderr.write('stack %s: resync queued\n' % stack['name'])


class RestoreStack(command.Command):
    """Restore every repo of the git server from its latest backup.

    Refs pushed since that backup are kept; pushes wait while a repo is
    being restored. Each restored repo says so in its status_reason.
    """

    def get_parser(self, prog_name):
        return _stack_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        stack = api.find_stack(parsed_args.stack)
        api.post('%s/%s/actions' % (PATH, stack['uuid']), {'action': 'restore'})
        self.app.stderr.write('stack %s: restore from the latest backups queued\n'
                              % stack['name'])
