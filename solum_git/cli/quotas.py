"""quota show / set: a project's limits (admins set them; -1: no limit)."""
import argparse

from cliff import show

from solum_git.cli import common
from solum_git.common import quotas

COLUMNS = ('project_id',) + quotas.NAMES + ('usage',)


def _project(parser):
    parser.add_argument('project', metavar='PROJECT', nargs='?',
                        help="Project id (default: the caller's)")
    return parser


def _path(api, project):
    return '%s/quotas/%s' % (common.INFRA, common.quoted(project or api.project_id()))


def _limit(value):
    if value == 'default':
        return None
    try:
        number = int(value)
    except ValueError:
        number = -2
    if number < -1:
        raise argparse.ArgumentTypeError('must be -1 (no limit), a whole number or '
                                         '"default": %r' % value)
    return number


class ShowQuota(show.ShowOne):
    """Show a project's quotas and what it uses."""

    def get_parser(self, prog_name):
        return _project(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        api = common.client(self)
        return common.show(api.get(_path(api, parsed_args.project)), COLUMNS)


class SetQuota(show.ShowOne):
    """Set a project's quotas (admins only); those not given keep their value."""

    def get_parser(self, prog_name):
        parser = _project(super().get_parser(prog_name))
        for name in quotas.NAMES:
            parser.add_argument('--' + name.replace('_', '-'), dest=name, type=_limit,
                                default=argparse.SUPPRESS, metavar='N',
                                help='%s: a limit, -1 for none, "default" for '
                                     "[quota]'s" % name)
        return parser

    def take_action(self, parsed_args):
        body = {name: getattr(parsed_args, name) for name in quotas.NAMES
                if hasattr(parsed_args, name)}
        if not body:
            raise common.client_mod.ApiError('nothing to set: give at least one of %s'
                                             % ', '.join('--' + n.replace('_', '-')
                                                         for n in quotas.NAMES))
        api = common.client(self)
        return common.show(api.put(_path(api, parsed_args.project), body), COLUMNS)
