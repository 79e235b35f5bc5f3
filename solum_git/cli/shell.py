"""solum-git: the standalone CLI (the same commands as ``openstack git ...``)."""
import logging
import os
import sys

from cliff import app
from cliff import commandmanager
from keystoneauth1 import loading as ks_loading

from solum_git.cli import client as client_mod
from solum_git.cli import plugin

NOAUTH_HINT = ('set SOLUM_GIT_URL with OS_PROJECT_ID and OS_USER_ID for a noauth '
               'service, or OS_AUTH_URL and credentials for Keystone')


def _env(*names, default=None):
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return default


class CommandManager(commandmanager.CommandManager):
    """The plugin's commands without their ``git`` prefix."""

    def __init__(self):
        super().__init__(None)
        for name, entry_point in commandmanager.CommandManager(plugin.COMMANDS):
            if name.startswith('git '):
                self.commands[name[len('git '):]] = entry_point


class ClientManager:
    """What OpenStackClient's client manager is to a plugin: ``.git`` on demand."""

    def __init__(self, options):
        self.options = options
        self._git = None

    @property
    def git(self):
        if self._git is None:
            self._git = make_client(self.options)
        return self._git


def keystone_wanted(options):
    auth_type = options.os_auth_type
    if auth_type in ('none', 'noauth'):
        return False
    return bool(getattr(options, 'os_auth_url', None)) or auth_type not in (
        None, 'password')


def make_client(options):
    if keystone_wanted(options):
        auth = ks_loading.load_auth_from_argparse_arguments(options)
        session = ks_loading.load_session_from_argparse_arguments(options, auth=auth)
        endpoint = options.solum_git_url
        if not endpoint:
            with client_mod.session_errors('Keystone at %s' % options.os_auth_url):
                endpoint = session.get_endpoint(
                    service_type=options.os_service_type,
                    interface=options.os_interface, region_name=options.os_region_name)
        if not endpoint:
            raise client_mod.ApiError(
                'no "%s" endpoint in the service catalog; set SOLUM_GIT_URL'
                % options.os_service_type)
        return client_mod.Client(session, endpoint)
    if not options.solum_git_url:
        raise client_mod.ApiError('no solum-git API to talk to: ' + NOAUTH_HINT)
    project_id = getattr(options, 'os_project_id', None) or _env('OS_PROJECT_ID')
    user_id = getattr(options, 'os_user_id', None) or _env('OS_USER_ID')
    if not (project_id and user_id):
        raise client_mod.ApiError('SOLUM_GIT_URL without Keystone needs OS_PROJECT_ID '
                                  'and OS_USER_ID (or --os-project-id/--os-user-id)')
    session = ks_loading.load_session_from_argparse_arguments(options)
    headers = plugin.noauth_headers(project_id, user_id)
    if _env('OS_ROLES'):
        # a noauth API trusts these (development): OS_ROLES=admin for quota set
        headers['X-Roles'] = _env('OS_ROLES')
    return client_mod.Client(session, options.solum_git_url, headers)


class SolumGitApp(app.App):
    def __init__(self, argv):
        self._argv = argv
        super().__init__(
            description='solum-git: hosted git repositories for Solum',
            version=_version(), command_manager=CommandManager(),
            deferred_help=True)

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(description, version, argparse_kwargs)
        parser.add_argument('--solum-git-url', metavar='URL',
                            default=_env('SOLUM_GIT_URL'),
                            help='The solum-git API (env SOLUM_GIT_URL); without '
                                 'Keystone, requests carry OS_PROJECT_ID and '
                                 'OS_USER_ID')
        parser.add_argument('--os-service-type', default=_env(
            'OS_GIT_SERVICE_TYPE', default=client_mod.SERVICE_TYPE),
            help='Service type in the catalog (default: git)')
        parser.add_argument('--os-interface', default=_env('OS_INTERFACE',
                                                           default='public'),
                            help='Endpoint interface (default: public)')
        parser.add_argument('--os-region-name', default=_env('OS_REGION_NAME'))
        ks_loading.register_session_argparse_arguments(parser)
        ks_loading.register_auth_argparse_arguments(parser, self._argv,
                                                    default='password')
        return parser

    def initialize_app(self, argv):
        if self.options.verbose_level <= 1 and not self.options.debug:
            # its discovery warnings would add lines before the one error line
            logging.getLogger('keystoneauth').setLevel(logging.ERROR)
        self.client_manager = ClientManager(self.options)


def _version():
    try:
        from importlib import metadata
        return metadata.version('solum-git')
    except Exception:
        return 'unknown'


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    return SolumGitApp(argv).run(argv)


if __name__ == '__main__':
    sys.exit(main())
