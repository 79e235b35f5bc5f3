"""run show / log [--follow] / redeliver: one pipeline run started by a push."""
import time

from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import client as client_mod
from solum_git.cli import common
from solum_git.cli import pushes
from solum_git.common import states

PATH = common.INFRA + '/runs'
FIRST = ('uuid', 'status', 'status_reason', 'type', 'ref', 'commit', 'app_url',
         'push_uuid', 'trigger_uuid', 'repo_uuid', 'attempts', 'created_at',
         'started_at', 'finished_at', 'updated_at')
HIDE = ('uri', 'log_uri', 'push_uri')


def run_path(run_id, *parts):
    return '/'.join([PATH, common.quoted(run_id)] + [common.quoted(p) for p in parts])


def _run_arg(parser):
    parser.add_argument('run', metavar='RUN', help='Run uuid')
    return parser


def fetch_log(api, run_id):
    """(log text, run status); the API reads both from one row, in one request."""
    resp = api.send('GET', run_path(run_id, 'log'))
    status = resp.headers.get('X-Run-Status')
    if status is None:
        status = api.get(run_path(run_id)).get('status')
    return resp.text if resp.status_code != 204 else '', status


LIST_COLUMNS = ('uuid', 'type', 'ref', 'status', 'app_url', 'created_at')


def fetch_runs(api, repo, limit=None, marker=None, sort_key=None, sort_dir=None):
    """The repo's runs, push by push: at most ``limit`` runs, after run ``marker``.

    Runs are listed through their pushes (one push starts one run per matching
    trigger), so the API pages pushes: ask for as many pushes as runs are still
    missing (every push has at most that many to give), until enough or none left.
    """
    path = common.repo_path(repo, 'pushes')
    push_marker, runs = _after(api, repo, marker) if marker else (None, [])
    while limit is None or len(runs) < limit:
        wanted = None if limit is None else limit - len(runs)
        page = api.list(path, limit=wanted, marker=push_marker, sort_key=sort_key,
                        sort_dir=sort_dir)
        runs += [run for push in page for run in push.get('runs') or []]
        if wanted is None or not page:
            break
        push_marker = page[-1]['uuid']
    return runs[:limit]


def _after(api, repo, run_id):
    """(its push's uuid, the runs after it in that push): where a page after a run starts."""
    run = api.get(run_path(run_id))
    push_uuid = (run.get('push_uri') or '').rstrip('/').rsplit('/', 1)[-1]
    if run.get('repo_uuid') != repo['uuid'] or not push_uuid:
        raise client_mod.ApiError('--marker: run %s is not a run of repo %s'
                                  % (run_id, repo['name']), 400)
    push_runs = api.get(common.repo_path(repo, 'pushes', push_uuid)).get('runs') or []
    ids = [r.get('uuid') for r in push_runs]
    return push_uuid, push_runs[ids.index(run['uuid']) + 1:] if run['uuid'] in ids else []


class ListRuns(lister.Lister):
    """List a repo's runs, newest push first."""

    def get_parser(self, prog_name):
        return pushes.add_list_arguments(super().get_parser(prog_name), item='run')

    def take_action(self, parsed_args):
        api = common.client(self)
        runs = fetch_runs(api, api.find_repo(parsed_args.repo), parsed_args.limit,
                          parsed_args.marker, parsed_args.sort_key, parsed_args.sort_dir)
        return common.rows(runs, LIST_COLUMNS)


class ShowRun(show.ShowOne):
    """Show a pipeline run: status, commit, timestamps, app_url."""

    def get_parser(self, prog_name):
        return _run_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        run = common.client(self).get(run_path(parsed_args.run))
        return common.show_all(run, FIRST, hide=HIDE)


class RunLog(command.Command):
    """Print a run's log; --follow keeps printing until the run has finished."""

    def get_parser(self, prog_name):
        parser = _run_arg(super().get_parser(prog_name))
        parser.add_argument('--follow', '-f', action='store_true',
                            help='Wait for more output until the run ends; exit '
                                 'non-zero unless it ends in SUCCESS')
        parser.add_argument('--interval', type=float, default=0.5, metavar='SECONDS',
                            help='Time between polls with --follow (default: 0.5)')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        out = self.app.stdout
        text, status = fetch_log(api, parsed_args.run)
        if not parsed_args.follow:
            out.write(text)
            return 0
        printed = 0
        while True:
            if len(text) < printed:
                printed = 0  # redelivered: the run started a new log
            out.write(text[printed:])
            out.flush()
            printed = len(text)
            if status in states.RUN_FINAL:
                break
            time.sleep(max(parsed_args.interval, 0.1))
            text, status = fetch_log(api, parsed_args.run)
        if status != states.RunStatus.SUCCESS:
            run = api.get(run_path(parsed_args.run))
            raise client_mod.ApiError('run %s ended %s: %s' % (
                parsed_args.run, status, run.get('status_reason') or 'see its log'))
        return 0


class RedeliverRun(show.ShowOne):
    """Run a finished pipeline run again (a webhook is re-sent with its delivery id)."""

    def get_parser(self, prog_name):
        return _run_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        run = common.client(self).post(run_path(parsed_args.run, 'actions'),
                                       {'action': 'redeliver'})
        return common.show_all(run or {}, FIRST, hide=HIDE)
