"""event list: the audit trail (who changed access or content, and refused attempts)."""
from cliff import lister

from solum_git.cli import common
from solum_git.common import events

PATH = common.INFRA + '/events'
COLUMNS = ('uuid', 'at', 'user_id', 'action', 'outcome', 'resource_type',
           'resource_uuid', 'detail')


class ListEvents(lister.Lister):
    """List the project's audit events, newest first (the admin role: every project's)."""

    def get_parser(self, prog_name):
        parser = common.add_paging(super().get_parser(prog_name), sort_keys=('at',),
                                   item='event')
        parser.add_argument('--repo', metavar='REPO',
                            help="Only this repo's events (name or uuid; also its "
                                 'members, triggers, credentials and pushes)')
        parser.add_argument('--resource', metavar='UUID',
                            help='Only the events of this resource uuid')
        parser.add_argument('--action', choices=events.ACTIONS)
        parser.add_argument('--outcome', choices=events.OUTCOMES)
        parser.add_argument('--since', metavar='WHEN',
                            help='Only events at or after this time (ISO 8601, UTC)')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        resource = parsed_args.resource
        if parsed_args.repo:
            resource = api.find_repo(parsed_args.repo)['uuid']
        filters = {'resource_uuid': resource, 'action': parsed_args.action,
                   'outcome': parsed_args.outcome, 'since': parsed_args.since}
        found = api.list(PATH, **common.paging(parsed_args),
                         **{k: v for k, v in filters.items() if v is not None})
        return common.rows(found, COLUMNS)
