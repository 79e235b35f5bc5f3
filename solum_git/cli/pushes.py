"""push list / show: who pushed which refs when, and the runs each push started."""
from cliff import lister
from cliff import show

from solum_git.cli import common

LIST_COLUMNS = ('uuid', 'pusher', 'refs', 'runs', 'pushed_at')
FIRST = ('uuid', 'repo_uuid', 'pusher', 'refs', 'runs', 'pushed_at', 'created_at')


def _short(sha):
    return (sha or '')[:10] or '-'


def summary(push):
    """Refs as "refs/heads/main 1a2b3c..4d5e6f" and runs as "uuid STATUS"."""
    push = dict(push)
    refs = []
    for ref in push.get('refs') or []:
        if isinstance(ref, dict):
            name = ref.get('ref') or ref.get('name') or '?'
            refs.append('%s %s..%s' % (name, _short(ref.get('old')),
                                       _short(ref.get('new'))))
        else:
            refs.append(str(ref))
    push['refs'] = refs
    runs = []
    for run in push.get('runs') or []:
        if isinstance(run, dict):
            runs.append(' '.join(str(run[k]) for k in ('uuid', 'type', 'status')
                                 if run.get(k)))
        else:
            runs.append(str(run))
    push['runs'] = runs
    return push


class ListPushes(lister.Lister):
    """List the pushes to a repo, newest first."""

    def get_parser(self, prog_name):
        parser = common.add_paging(super().get_parser(prog_name),
                                   sort_keys=('created_at',))
        parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        pushes = api.list(common.repo_path(repo, 'pushes'), **common.paging(parsed_args))
        return common.rows([summary(p) for p in pushes], LIST_COLUMNS)


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
        return common.show_all(summary(push), FIRST)
