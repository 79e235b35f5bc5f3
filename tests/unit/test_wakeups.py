"""Wake-ups over the pipe from API workers to the engine that forked them."""
import os
import threading

from solum_git.engine import wakeups


class FakeEngine:
    def __init__(self, expected):
        self.seen = []
        self.done = threading.Event()
        self.expected = expected

    def notify(self, stack_id, resync=False):
        self.seen.append(stack_id)
        if set(self.seen) >= self.expected:
            self.done.set()


def test_stack_ids_written_by_workers_wake_the_engine():
    read, write = os.pipe()
    engine = FakeEngine({1, 7, 42})
    listener = wakeups.PipeListener(read, engine).start()
    pid = os.fork()
    if pid == 0:            # a worker process, as gunicorn forks them
        notifier = wakeups.PipeNotifier(write)
        for stack_id in (7, 42):
            notifier.notify(stack_id)
        os._exit(0)
    os.waitpid(pid, 0)
    wakeups.PipeNotifier(write).notify(1)
    try:
        assert engine.done.wait(10), engine.seen
    finally:
        os.close(write)
        listener.stop()
    assert sorted(set(engine.seen)) == [1, 7, 42]


def test_a_full_pipe_drops_the_wake_up_instead_of_blocking_the_request():
    read, write = os.pipe()
    notifier = wakeups.PipeNotifier(write)
    try:
        for _ in range(100000):     # far past the pipe's 64 KiB, nobody reading
            notifier.notify(123456)
    finally:
        os.close(read)
        os.close(write)
