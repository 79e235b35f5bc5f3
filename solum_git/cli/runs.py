"""run show / log [--follow] / redeliver: one pipeline run started by a push."""
import time

from cliff import command
from cliff import show

from solum_git.cli import client as client_mod
from solum_git.cli import common

PATH = common.INFRA + '/runs'
FIRST = ('uuid', 'status', 'status_reason', 'type', 'ref', 'commit', 'app_url',
         'push_uuid', 'trigger_uuid', 'attempts', 'created_at', 'started_at',
         'finished_at')
FINAL = ('SUCCESS', 'FAILED', 'ERROR')


def run_path(run_id, *parts):
    return '/'.join([PATH, common.quoted(run_id)] + [common.quoted(p) for p in parts])


def _run_arg(parser):
    parser.add_argument('run', metavar='RUN', help='Run uuid')
    return parser


def log_text(api, run_id):
    """The run's log: the API may answer text/plain or {"log": "..."}."""
    resp = api.send('GET', run_path(run_id, 'log'))
    if 'json' in resp.headers.get('Content-Type', ''):
        body = resp.json()
        if isinstance(body, dict):
            return body.get('log') or body.get('text') or ''
        return body if isinstance(body, str) else ''
    return resp.text


class ShowRun(show.ShowOne):
    """Show a pipeline run: status, commit, timestamps, app_url."""

    def get_parser(self, prog_name):
        return _run_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        run = common.client(self).get(run_path(parsed_args.run))
        return common.show_all(run, FIRST, hide=('uri', 'log', 'log_uri'))


class RunLog(command.Command):
    """Print a run's log; --follow keeps printing until the run has finished."""

    def get_parser(self, prog_name):
        parser = _run_arg(super().get_parser(prog_name))
        parser.add_argument('--follow', '-f', action='store_true',
                            help='Wait for more output until the run finishes; '
                                 'exit non-zero unless it ends in SUCCESS')
        parser.add_argument('--interval', type=float, default=1.0,
                            help='Seconds between polls with --follow (default: 1)')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        out = self.app.stdout
        if not parsed_args.follow:
            out.write(log_text(api, parsed_args.run))
            return 0
        printed = 0
        while True:
            # the status first: a log read after it then holds all of a final run
            run = api.get(run_path(parsed_args.run))
            text = log_text(api, parsed_args.run)
            if len(text) < printed:
                printed = 0  # a redelivered run starts a new log
            out.write(text[printed:])
            out.flush()
            printed = len(text)
            if run.get('status') in FINAL:
                break
            time.sleep(max(parsed_args.interval, 0.1))
        if run['status'] != 'SUCCESS':
            raise client_mod.ApiError('run %s ended %s: %s' % (
                run.get('uuid', parsed_args.run), run['status'],
                run.get('status_reason') or 'see the log above'))
        return 0


class RedeliverRun(command.Command):
    """Run a pipeline run again (deliver the push to its trigger once more)."""

    def get_parser(self, prog_name):
        return _run_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        common.client(self).post(run_path(parsed_args.run, 'actions'),
                                 {'action': 'redeliver'})
        self.app.stderr.write('run %s: redelivery queued\n' % parsed_args.run)
