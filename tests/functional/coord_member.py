"""A coordination group member in a process of its own (test_coordination.py).

``python -m tests.functional.coord_member URL HEARTBEAT HOST [LOCK]``: joins,
takes LOCK if given, prints its member id, then beats until killed.
"""
import sys
import threading

from solum_git.engine import leases
from solum_git.engine import ownership


def main(argv):
    url, heartbeat, host = argv[0], float(argv[1]), argv[2]
    member = ownership.Cluster(url, leases.holder_id(), heartbeat, host=host)
    member.start()
    if len(argv) > 3 and not member.lock(argv[3]):
        print('lock not taken', flush=True)
        return 1
    print(member.member_id, flush=True)
    threading.Event().wait()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
