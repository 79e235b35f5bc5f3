"""solum-git-server PROGRAM ARGS...: the one entry of the server programs.

gitolite runs each as a command or trigger through a two-line shim that
bootstrap.sh writes (``exec python3 -I -S .../solum-git-server solum-sync "$@"``).
A new command family is a module with a ``main(argv)`` and a line in PROGRAMS.
"""
import importlib
import sys

# program name -> (module of solum_git.server, function taking argv)
PROGRAMS = {
    'solum-sync': ('sync', 'main'),
    'solum-flush': ('flush', 'main'),
    'solum-backup': ('backup', 'main'),
    'solum-authkeys': ('triggers', 'authkeys_main'),
    'solum-stamp': ('triggers', 'stamp_main'),
    'solum-moved': ('triggers', 'moved_main'),
    'solum-pre-receive': ('guard', 'main'),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in PROGRAMS:
        sys.stderr.write('FATAL: solum-git-server: usage: solum-git-server %s ARGS...\n'
                         % '|'.join(sorted(PROGRAMS)))
        return 2
    module, function = PROGRAMS[argv[0]]
    # only the module asked for: the start-up is paid on every command
    program = importlib.import_module('solum_git.server.' + module)
    return getattr(program, function)(argv[1:])


if __name__ == '__main__':
    sys.exit(main())
