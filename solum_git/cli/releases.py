"""release list / rollback / app log: what a local trigger deployed, and its app."""
import codecs

from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import client as client_mod
from solum_git.cli import common
from solum_git.cli import runs

COLUMNS = ('release', 'serving', 'run_uuid', 'commit', 'config_version', 'rollback_of',
           'deployed_at')
READ = 65536


def _repo_arg(parser):
    parser.add_argument('repo', metavar='REPO', help='Repo name or uuid')
    return parser


def serving_run(api, repo):
    """The run whose app serves the repo now (the newest serving release)."""
    serving = [r for r in api.get(common.repo_path(repo, 'releases')) if r['serving']]
    if not serving:
        raise client_mod.ApiError('repo %s has no release: no local trigger deployed an '
                                  'app yet' % repo['name'], 404)
    return max(serving, key=lambda r: r.get('deployed_at') or '')['run_uuid']


class ListReleases(lister.Lister):
    """List a repo's releases (local deploys that served), newest first."""

    def get_parser(self, prog_name):
        return _repo_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        return common.rows(api.get(common.repo_path(repo, 'releases')), COLUMNS)


class Rollback(show.ShowOne):
    """Serve a release again: its run's kept build is redeployed, untested, as a new run."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('run', metavar='RUN',
                            help='Run uuid of the release to go back to (release list)')
        return parser

    def take_action(self, parsed_args):
        run = common.client(self).post(runs.run_path(parsed_args.run, 'actions'),
                                       {'action': 'rollback'})
        return common.show_all(run or {}, runs.FIRST, hide=runs.HIDE)


class AppLog(command.Command):
    """Print what the repo's serving app printed (secrets masked); --follow keeps on."""

    def get_parser(self, prog_name):
        parser = _repo_arg(super().get_parser(prog_name))
        parser.add_argument('--follow', '-f', action='store_true',
                            help='Keep printing what the app prints until interrupted')
        parser.add_argument('--tail', type=int, metavar='LINES',
                            help='Only the last LINES lines to begin with')
        parser.add_argument('--run', metavar='RUN',
                            help="That run's app instead of the one serving now")
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        run_id = parsed_args.run or serving_run(api, api.find_repo(parsed_args.repo))
        path = runs.run_path(run_id, 'app-log')
        out = self.app.stdout
        tail = parsed_args.tail
        # a read may end inside a UTF-8 character: decode across reads
        text = codecs.getincrementaldecoder('utf-8')('replace')
        while True:
            resp = api.send('GET', path, params={'tail': tail, 'follow': 1 if
                                                 parsed_args.follow else None},
                            stream=True)
            try:
                while True:
                    # whatever has arrived, as soon as it has
                    data = resp.raw.read1(READ)
                    if not data:
                        break
                    out.write(text.decode(data))
                    out.flush()
            finally:
                resp.close()
            if not parsed_args.follow:
                return 0
            # the API ends a follow after [api] app_log_follow_seconds: ask again
            tail = 0
