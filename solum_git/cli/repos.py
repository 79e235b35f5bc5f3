"""repo create / list / show / rename / delete (REPO is a name or a uuid)."""
import time

from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import client as client_mod
from solum_git.cli import common
from solum_git.cli import progress
from solum_git.cli import remote
from solum_git.common import states

PATH = common.INFRA + '/repos'
COLUMNS = ('uuid', 'name', 'description', 'status', 'status_reason', 'git_url',
           'http_url', 'default_branch', 'backed_up_at', 'backup_lag_seconds',
           'project_id', 'user_id', 'stack_uri', 'created_at', 'updated_at')
LIST_COLUMNS = ('uuid', 'name', 'status', 'git_url')
LONG_COLUMNS = ('uuid', 'name', 'status', 'git_url', 'default_branch', 'description',
                'created_at')


def wait_until_active(api, repo, stream, timeout, interval=0.2):
    """Poll the repo until ACTIVE; ERROR, removal or the timeout raise ApiError."""
    meter = progress.Progress(stream, 'repo %s' % repo['name'])
    deadline = time.monotonic() + timeout
    while True:
        status = repo.get('status')
        if status == states.RepoStatus.ACTIVE:
            meter.done(status)
            return repo
        if status in (states.RepoStatus.ERROR, states.StackStatus.DELETING):
            meter.done(status)
            raise client_mod.ApiError('repo %s is %s: %s' % (
                repo['name'], status, repo.get('status_reason') or 'no reason given'))
        meter.update(status)
        if time.monotonic() >= deadline:
            if meter.tty:
                stream.write('\n')
            raise client_mod.ApiError(
                'repo %s is still %s after %ds; see "repo show %s" later'
                % (repo['name'], status, timeout, repo['name']))
        time.sleep(interval)
        interval = min(interval * 1.5, 2.0)
        try:
            repo = api.get('%s/%s' % (PATH, repo['uuid']))
        except client_mod.ApiError as e:
            if e.status == 404:
                raise client_mod.ApiError('repo %s was deleted while waiting'
                                          % repo['name'], 404)
            raise


class CreateRepo(show.ShowOne):
    """Create a repository; wait until it can be pushed to and print its git_url."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME',
                            help='1-100 characters of A-Za-z0-9._- , unique in the '
                                 'project')
        parser.add_argument('--description', metavar='D')
        parser.add_argument('--default-branch', metavar='BRANCH',
                            help='Default branch (default: main)')
        parser.add_argument('--restore-from', metavar='REPO_UUID',
                            help='Start from the backups of this deleted repo (undo '
                                 'of a delete, within the operator\'s '
                                 'keep_deleted_days)')
        parser.add_argument('--no-wait', action='store_true',
                            help='Return at once (status BUILDING) instead of waiting '
                                 'for ACTIVE')
        parser.add_argument('--wait-timeout', type=int, default=300, metavar='SECONDS',
                            help='Give up waiting after this long (default: 300)')
        parser.add_argument('--add-remote', nargs='?', const='.', metavar='DIR',
                            help='Add a "solum" remote to the git work tree DIR '
                                 '(default: .) and trust the server\'s host keys '
                                 'in ~/.ssh/known_hosts')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        if parsed_args.add_remote:
            remote.check_work_tree(parsed_args.add_remote)
        body = {'name': parsed_args.name}
        if parsed_args.description is not None:
            body['description'] = parsed_args.description
        if parsed_args.default_branch is not None:
            body['default_branch'] = parsed_args.default_branch
        if parsed_args.restore_from is not None:
            body['restore_from'] = parsed_args.restore_from
        repo = api.post(PATH, body)
        if not parsed_args.no_wait:
            repo = wait_until_active(api, repo, self.app.stderr,
                                     parsed_args.wait_timeout)
        if parsed_args.add_remote:
            self._add_remote(api, repo, parsed_args.add_remote)
        return common.show(repo, COLUMNS)

    def _add_remote(self, api, repo, work_tree):
        err = self.app.stderr
        if not repo.get('git_url'):
            err.write('not adding a remote: the git server has no address yet; run '
                      '"repo create" without --no-wait, or "git remote add solum '
                      '<git_url>" once "repo show" has one\n')
            return
        stack = api.get(repo['stack_uri']) if repo.get('stack_uri') else {}
        known_hosts = remote.known_hosts_path()
        pinned = remote.pin_host_keys(repo['git_url'], stack.get('ssh_host_keys'),
                                      known_hosts)
        if pinned:
            err.write('%d host key(s) of %s recorded in ~/.ssh/known_hosts\n'
                      % (pinned, remote.host_pattern(repo['git_url'])))
            if not remote.ssh_reads(known_hosts):
                err.write(remote.use_known_hosts(work_tree, known_hosts) + '\n')
        else:
            err.write('warning: the git server reported no host keys yet; ssh will '
                      'ask you to check its key on the first push\n')
        old = remote.add_remote(work_tree, repo['git_url'])
        err.write('remote "solum" -> %s%s\n' % (
            repo['git_url'], ' (was %s)' % old if old else ''))


class ListRepos(lister.Lister):
    """List the project's repositories."""

    def get_parser(self, prog_name):
        parser = common.add_paging(super().get_parser(prog_name))
        parser.add_argument('--long', action='store_true', help='More columns')
        return parser

    def take_action(self, parsed_args):
        repos = common.client(self).list(PATH, **common.paging(parsed_args))
        return common.rows(repos, LONG_COLUMNS if parsed_args.long else LIST_COLUMNS)


class ShowRepo(show.ShowOne):
    """Show a repository."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('repo', metavar='REPO', help='Name or uuid')
        return parser

    def take_action(self, parsed_args):
        return common.show(common.client(self).find_repo(parsed_args.repo), COLUMNS)


class DeleteRepo(command.Command):
    """Delete a repository (and its pushes, runs, triggers and members)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('repo', metavar='REPO', help='Name or uuid')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        api.delete('%s/%s' % (PATH, repo['uuid']))
        said = ('Deleted repo %s (%s) with its pushes, runs, triggers and members; its '
                'git server drops it shortly.' % (repo['name'], repo['uuid']))
        if _stack_goes(api, repo):
            said += " It was the project's last repo: its git server is being deleted too."
        self.app.stdout.write(said + '\n')


def _stack_goes(api, repo):
    """A project's git server goes with its last repo (the API marks it DELETING)."""
    if not repo.get('stack_uri'):
        return False
    try:
        return api.get(repo['stack_uri']).get('status') == states.StackStatus.DELETING
    except client_mod.ApiError as e:
        if e.status == 404:
            return True
        raise


class ListBackups(lister.Lister):
    """List a repository's backups, newest first (full bundles and increments)."""

    COLUMNS = ('uuid', 'created_at', 'kind', 'size_bytes', 'verified', 'refs')

    def get_parser(self, prog_name):
        parser = common.add_paging(super().get_parser(prog_name))
        parser.add_argument('repo', metavar='REPO', help='Name or uuid')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        found = api.list('%s/%s/backups' % (PATH, repo['uuid']),
                         **common.paging(parsed_args))
        for backup in found:
            backup['refs'] = len(backup.get('refs') or {})
        return common.rows(found, self.COLUMNS)


class RenameRepo(show.ShowOne):
    """Rename a repository on its git server (history, members, triggers follow).

    The old URL is then refused with a message naming the new one; point your
    clones at the new git_url (``git remote set-url solum <git_url>``).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('repo', metavar='REPO', help='Name or uuid')
        parser.add_argument('name', metavar='NEW_NAME',
                            help='1-100 characters of A-Za-z0-9._- , unique in the '
                                 'project')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        repo = api.find_repo(parsed_args.repo)
        renamed = api.put('%s/%s' % (PATH, repo['uuid']), {'name': parsed_args.name})
        self.app.stderr.write('renamed repo %s to %s; new git_url %s\n' % (
            repo['name'], renamed['name'], renamed.get('git_url') or '(not known yet)'))
        return common.show(renamed, COLUMNS)
