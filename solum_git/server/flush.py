"""solum-flush: deliver the hook's spooled push events now (solum-git's admin only)."""
import os
import sys

from solum_git.server import common

PROGRAM = 'solum-flush'


def _flush(argv, home=None):
    home = home or common.Home()
    if argv:
        raise common.Fatal('takes no arguments')
    try:
        home.require_admin()
    except common.Fatal:
        raise common.Fatal('only the admin may run this')
    if not os.path.isfile(home.hook):
        print('solum-flush: no hook program installed')
        return 0
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, home.hook, 'flush',
                              '--config', home.hook_config])


def main(argv):
    return common.run(PROGRAM, _flush, argv)
