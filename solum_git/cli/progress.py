"""A progress indicator on stderr while waiting: a spinner on a terminal, lines otherwise."""
import time

FRAMES = '|/-\\'


class Progress:
    def __init__(self, stream, what):
        self.stream = stream
        self.what = what
        self.tty = hasattr(stream, 'isatty') and stream.isatty()
        self.started = time.monotonic()
        self.frame = 0
        self.last_state = None

    def elapsed(self):
        return time.monotonic() - self.started

    def update(self, state):
        if self.tty:
            self.frame = (self.frame + 1) % len(FRAMES)
            self.stream.write('\r%s %s: %s (%.0fs) ' % (
                FRAMES[self.frame], self.what, state, self.elapsed()))
        elif state != self.last_state:
            # a log or a pipe gets one line per change, not a spinner
            self.stream.write('%s: %s\n' % (self.what, state))
        self.stream.flush()
        self.last_state = state

    def done(self, state):
        if self.tty:
            self.stream.write('\r\033[K')
        self.stream.write('%s: %s after %.1fs\n' % (self.what, state, self.elapsed()))
        self.stream.flush()
