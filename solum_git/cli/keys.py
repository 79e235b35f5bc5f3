"""key add / list / delete: the caller's own SSH public keys."""
import os

from cliff import command
from cliff import lister
from cliff import show

from solum_git.cli import client as client_mod
from solum_git.cli import common

PATH = common.INFRA + '/keys'
COLUMNS = ('uuid', 'name', 'type', 'fingerprint', 'user_id', 'created_at')
LIST_COLUMNS = ('uuid', 'name', 'type', 'fingerprint', 'created_at')
# the order ssh-keygen users usually have them in
DEFAULT_KEYS = ('id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub')
MAX_KEY_FILE = 64 * 1024


def default_key_file():
    ssh_dir = os.path.join(os.path.expanduser('~'), '.ssh')
    for name in DEFAULT_KEYS:
        path = os.path.join(ssh_dir, name)
        if os.path.isfile(path):
            return path
    raise client_mod.ApiError('no public key given and none of %s found in %s; '
                              'give PUBLIC_KEY_FILE (or run ssh-keygen)'
                              % (', '.join(DEFAULT_KEYS), ssh_dir))


def read_key_file(path):
    try:
        with open(path, 'rb') as f:
            data = f.read(MAX_KEY_FILE + 1)
    except OSError as e:
        raise client_mod.ApiError('%s: %s' % (path, e.strerror))
    if len(data) > MAX_KEY_FILE:
        raise client_mod.ApiError('%s: too large for a public key' % path)
    try:
        text = data.decode('utf-8').strip()
    except UnicodeDecodeError:
        raise client_mod.ApiError('%s: not a text file (give the .pub file)' % path)
    if 'PRIVATE KEY' in text:
        # never send a private key anywhere, not even to be refused
        raise client_mod.ApiError('%s: this is a private key; give the public key '
                                  '(the .pub file)' % path)
    return text


class AddKey(show.ShowOne):
    """Upload an SSH public key (by default ~/.ssh/id_ed25519.pub, id_ecdsa.pub or
    id_rsa.pub)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--name', help='A name for the key (default: its comment)')
        parser.add_argument('public_key_file', nargs='?', metavar='PUBLIC_KEY_FILE',
                            help='The public key file ("-" reads standard input)')
        return parser

    def take_action(self, parsed_args):
        path = parsed_args.public_key_file or default_key_file()
        if path == '-':
            public_key = self.app.stdin.read(MAX_KEY_FILE).strip()
        else:
            public_key = read_key_file(path)
        body = {'public_key': public_key}
        if parsed_args.name is not None:
            body['name'] = parsed_args.name
        return common.show(common.client(self).post(PATH, body), COLUMNS)


class ListKeys(lister.Lister):
    """List your SSH public keys."""

    def get_parser(self, prog_name):
        return common.add_paging(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        keys = common.client(self).list(PATH, **common.paging(parsed_args))
        return common.rows(keys, LIST_COLUMNS)


class ShowKey(show.ShowOne):
    """Show one of your SSH public keys."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('key', metavar='KEY', help='Name, fingerprint or uuid')
        return parser

    def take_action(self, parsed_args):
        key = common.client(self).find_key(parsed_args.key)
        return common.show(key, COLUMNS + ('public_key',))


class DeleteKey(command.Command):
    """Delete one of your SSH public keys (it loses access on the next apply)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('key', metavar='KEY', help='Name, fingerprint or uuid')
        return parser

    def take_action(self, parsed_args):
        api = common.client(self)
        key = api.find_key(parsed_args.key)
        api.delete('%s/%s' % (PATH, key['uuid']))
