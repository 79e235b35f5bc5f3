"""Runs one of Swift's own server scripts with swift.conf from a directory of ours.

Swift reads /etc/swift/swift.conf (hash path prefix and suffix, storage
policies) from a fixed path; its servers' ``swift_dir`` option moves only the
rings. Test peers keep everything in a temporary directory, so this sets that
directory first (``swift.common.utils.set_swift_dir``), then runs the server
script unchanged:

    python swift_server.py SWIFT_DIR .venv-swift/bin/swift-object-server CONF -v
"""
import runpy
import sys


def main() -> None:
    from swift.common import utils
    swift_dir, script = sys.argv[1], sys.argv[2]
    utils.set_swift_dir(swift_dir)
    sys.argv = [script] + sys.argv[3:]
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
