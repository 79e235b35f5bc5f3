"""What every command shares: its client, paging options and how rows print."""
import argparse
import urllib.parse

from cliff import columns

from solum_git.cli import client as client_mod

INFRA = client_mod.INFRA


def client(cmd):
    """The API client, from the standalone app or from OpenStackClient."""
    return cmd.app.client_manager.git


class DictColumn(columns.FormattableColumn):
    """``a='x', b='y'`` in a table; the dict itself in json and yaml."""

    def human_readable(self):
        return ', '.join('%s=%r' % (k, v) for k, v in sorted(self._value.items()))

    def machine_readable(self):
        return dict(self._value)


class ListColumn(columns.FormattableColumn):
    """One item per line in a table; the list itself in json and yaml."""

    def human_readable(self):
        return '\n'.join(str(v) for v in self._value)

    def machine_readable(self):
        return list(self._value)


def _cell(value):
    # osc-lib has these too, but importing it pulls in all of openstacksdk
    if isinstance(value, columns.FormattableColumn):
        return value
    if isinstance(value, dict):
        return DictColumn(value)
    if isinstance(value, list):
        return ListColumn(value)
    return value


def show(item, columns):
    """(columns, values) for a ShowOne; fields the API did not send show empty."""
    return columns, tuple(_cell(item.get(c)) for c in columns)


def rows(items, columns):
    """(columns, rows) for a Lister."""
    return columns, [tuple(_cell(i.get(c)) for c in columns) for i in items]


def add_paging(parser, sort_keys=('created_at', 'updated_at', 'name'), item='item'):
    parser.add_argument('--limit', type=_positive, metavar='N',
                        help='Show one page of at most N %ss (default: all)' % item)
    parser.add_argument('--marker', metavar='UUID',
                        help='Start after the %s with this uuid' % item)
    parser.add_argument('--sort-key', choices=sort_keys,
                        help='Sort by this field (default: created_at)')
    parser.add_argument('--sort-dir', choices=('asc', 'desc'),
                        help='Sort direction (default: desc, newest first)')
    return parser


def paging(parsed_args):
    return {'limit': parsed_args.limit, 'marker': parsed_args.marker,
            'sort_key': parsed_args.sort_key, 'sort_dir': parsed_args.sort_dir}


def _positive(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError('must be a positive integer: %r' % value)
    return number


def quoted(part):
    """A user's word as one path segment: never ``..`` or ``/`` into the URL.

    ``member remove REPO ..`` must not become ``DELETE /repos/REPO``.
    """
    if part in ('', '.', '..'):
        raise client_mod.ApiError('%r: not a valid name or id' % part)
    return urllib.parse.quote(part, safe='')


def repo_path(repo, *parts):
    return '/'.join(['%s/repos/%s' % (INFRA, quoted(repo['uuid']))]
                    + [quoted(p) for p in parts])


def show_all(item, first, hide=('uri',)):
    """A ShowOne of every field the API sent: ``first`` in order, then the rest."""
    columns = [c for c in first if c in item]
    columns += sorted(k for k in item if k not in columns and k not in hide)
    return show(item, tuple(columns))
