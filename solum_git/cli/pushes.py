"""push list / show: who pushed which refs when, and the runs each push started."""
from cliff import columns
from cliff import lister
from cliff import show

from solum_git.cli import common

LIST_COLUMNS = ('uuid', 'pusher', 'refs', 'runs', 'pushed_at')
FIRST = ('uuid', 'repo_uuid', 'pusher', 'refs', 'runs', 'pushed_at', 'created_at')


def _short(sha):
    return (sha or '')[:10] or '-'


class RefsColumn(columns.FormattableColumn):
    """``refs/heads/main 1a2b3c4d5e..6f7a8b9c0d`` per line; the list in json/yaml."""

    def human_readable(self):
        return '\n'.join('%s %s..%s' % (r.get('ref'), _short(r.get('old')),
                                        _short(r.get('new'))) for r in self._value)

    def machine_readable(self):
        return list(self._value)


class RunsColumn(columns.FormattableColumn):
    """``<uuid> local SUCCESS`` per line; the runs themselves in json/yaml."""

    def human_readable(self):
        return '\n'.join(' '.join(str(r[k]) for k in ('uuid', 'type', 'status')
                                  if r.get(k)) for r in self._value)

    def machine_readable(self):
        return list(self._value)


def formatted(push):
    push = dict(push)
    push['refs'] = RefsColumn(push.get('refs') or [])
    push['runs'] = RunsColumn(push.get('runs') or [])
    return push


def add_list_arguments(parser, item='push'):
    """REPO and paging: what push list and run list both take."""
    parser = common.add_paging(parser, sort_keys=('created_at',), item=item)
    parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
    return parser


def fetch(cmd, parsed_args):
    """A page of the repo's pushes, newest first."""
    api = common.client(cmd)
    repo = api.find_repo(parsed_args.repo)
    return api.list(common.repo_path(repo, 'pushes'), **common.paging(parsed_args))


class ListPushes(lister.Lister):
    """List the pushes to a repo, newest first."""

    def get_parser(self, prog_name):
        return add_list_arguments(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        return common.rows([formatted(p) for p in fetch(self, parsed_args)],
                           LIST_COLUMNS)


class ShowPush(show.ShowOne):
    """Show a push: its refs and the pipeline runs it started."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
        parser.add_argument('push', metavar='PUSH', help='Push uuid')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        push = api.get(common.repo_path(repo, 'pushes', parsed_args.push))
        return common.show_all(formatted(push), FIRST, hide=('uri', 'repo_uri'))
