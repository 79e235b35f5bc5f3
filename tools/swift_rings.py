"""Builds a test Swift's rings in one process: one device, one replica each.

What ``swift-ring-builder NAME.builder create 6 1 1``, ``add`` and
``rebalance`` do, with Swift's own RingBuilder, for every ring at once
(nine ring-builder processes cost seconds of start-up on two cores):

    python swift_rings.py SWIFT_DIR DEVICE account=6201 container=6202 object=6203
"""
import os
import sys


def main() -> None:
    from swift.common.ring import RingBuilder
    swift_dir, device = sys.argv[1], sys.argv[2]
    for arg in sys.argv[3:]:
        name, port = arg.split('=')
        builder = RingBuilder(6, 1, 1)
        builder.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port),
                         'replication_ip': '127.0.0.1', 'replication_port': int(port),
                         'device': device, 'weight': 1.0, 'meta': ''})
        builder.rebalance()
        builder.save(os.path.join(swift_dir, '%s.builder' % name))
        builder.get_ring().save(os.path.join(swift_dir, '%s.ring.gz' % name))


if __name__ == '__main__':
    main()
