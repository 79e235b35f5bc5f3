"""The OpenStackClient plugin: ``openstack git ...`` (osc-lib entry points)."""
import os

from solum_git.cli import client as client_mod

API_NAME = 'git'
API_VERSION_OPTION = 'os_git_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = {'1': 'solum_git.cli.client.Client'}
COMMANDS = 'openstack.git.v1'


def noauth_headers(project_id, user_id):
    return {'X-Project-Id': project_id, 'X-User-Id': user_id}


def make_client(instance):
    """Called by OpenStackClient's client manager the first time ``.git`` is used.

    The endpoint is --os-git-url (SOLUM_GIT_URL) or the catalog's "git" service;
    the session is OpenStackClient's own (Keystone).
    """
    endpoint = instance.get_configuration().get('git_url')
    if not endpoint:
        with client_mod.session_errors('Keystone'):
            endpoint = instance.get_endpoint_for_service_type(
                API_NAME, region_name=instance.region_name,
                interface=instance.interface)
    if not endpoint:
        raise client_mod.ApiError('no "git" endpoint in the service catalog; set '
                                  'SOLUM_GIT_URL or --os-git-url')
    return client_mod.Client(instance.session, endpoint)


def build_option_parser(parser):
    parser.add_argument('--os-git-api-version', metavar='<version>',
                        default=os.environ.get('OS_GIT_API_VERSION'),
                        help='solum-git API version (default: 1)')
    parser.add_argument('--os-git-url', metavar='<url>',
                        default=os.environ.get('SOLUM_GIT_URL'),
                        help='The solum-git API, instead of the catalog\'s "git" '
                             'endpoint (env SOLUM_GIT_URL)')
    return parser
