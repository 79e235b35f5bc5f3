#!/usr/bin/env python3
"""Heat provisioner: seconds from create() to ACTIVE (sshd answering with the
pinned host key) through the fake cloud, for a namespace VM and a podman
container. Needs root and tools/setup-heat.sh. Run from the source tree:

    .venv/bin/python bench/heat_boot.py [--runs N] [--container]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from tests.functional import test_heat_provisioner as vm  # noqa: E402
from tests.heatserver import HeatServer  # noqa: E402


def boot_times(server_type, runs):
    tmp = tempfile.mkdtemp(prefix='heat-bench-')
    env = {'SOLUM_GIT_SSH_LISTEN': '127.0.0.1'}
    server = HeatServer(tmp, build_delay=0, container_env=env).start()
    times = []
    try:
        for _ in range(runs):
            prov = vm.make_provisioner(tmp, server, server_type=server_type)
            row = vm.fake_row('bench-%s' % uuid.uuid4().hex[:6])
            start = time.monotonic()
            prov.create(row, {})
            vm.wait_state(prov, row, 'ACTIVE', timeout=300)
            times.append(time.monotonic() - start)
            prov.delete(row)
    finally:
        server.stop()
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--container', action='store_true')
    args = parser.parse_args()
    kinds = ['vm'] + (['container'] if args.container else [])
    for kind in kinds:
        times = boot_times(kind, args.runs)
        print('%-9s create -> ACTIVE: median %.2f s, max %.2f s over %d runs'
              % (kind, statistics.median(times), max(times), len(times)))


if __name__ == '__main__':
    main()
