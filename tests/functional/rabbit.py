"""A RabbitMQ virtual host of its own for a test, on the machine's RabbitMQ.

Each test world gets a new vhost (topics and exchanges of parallel tests never
meet); ``down()`` deletes it, which closes every connection to it and refuses
new ones (RabbitMQ as the world sees it when it is stopped), ``up()`` makes it
again. No RabbitMQ, or no ``rabbitmqctl``, fails the test: nothing is skipped.
"""
import contextlib
import os
import shutil
import subprocess
import threading
import uuid

from oslo_config import cfg

from solum_git.messaging import oslo_messaging

HOST = os.environ.get('SOLUM_GIT_TEST_RABBIT', 'guest:guest@127.0.0.1:5672')
USER = HOST.split(':', 1)[0]


def _ctl(*args):
    ctl = shutil.which('rabbitmqctl')
    if ctl is None:
        raise AssertionError('rabbitmqctl not found: the messaging tests need RabbitMQ '
                             '(Debian: rabbitmq-server) running on 127.0.0.1:5672')
    done = subprocess.run([ctl, '-q'] + list(args), capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise AssertionError('rabbitmqctl %s failed: %s%s'
                             % (' '.join(args), done.stdout, done.stderr))
    return done.stdout


class Vhost:
    def __init__(self):
        self.name = 'sgtest_%s' % uuid.uuid4().hex[:12]
        self.url = 'rabbit://%s/%s' % (HOST, self.name)

    def up(self):
        _ctl('add_vhost', self.name)
        _ctl('set_permissions', '-p', self.name, USER, '.*', '.*', '.*')

    def down(self):
        _ctl('delete_vhost', self.name)


@contextlib.contextmanager
def vhost():
    host = Vhost()
    host.up()
    try:
        yield host
    finally:
        host.down()


class Listener:
    """A real oslo.messaging notification listener on ``url``: every event it hears."""

    def __init__(self, url, topic='notifications'):
        self.events = []
        self._cond = threading.Condition()
        conf = cfg.ConfigOpts()
        conf([], project='solum-git-test', default_config_files=[])
        self._transport = oslo_messaging.get_notification_transport(conf, url=url)
        self._listener = oslo_messaging.get_notification_listener(
            self._transport, [oslo_messaging.Target(topic=topic)], [self],
            executor='threading')

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        with self._cond:
            self.events.append({'context': ctxt, 'publisher_id': publisher_id,
                                'event_type': event_type, 'payload': payload})
            self._cond.notify_all()

    def wait_for(self, match, timeout=60, what='a notification'):
        """The first event ``match(event)`` accepts, waiting up to ``timeout`` seconds."""
        with self._cond:
            found = []

            def seen():
                found[:] = [e for e in self.events if match(e)]
                return found
            if not self._cond.wait_for(seen, timeout):
                raise AssertionError('%s not received in %ss; got %s'
                                     % (what, timeout, [e['event_type'] for e in self.events]))
            return found[0]

    def start(self):
        self._listener.start()
        return self

    def stop(self):
        self._listener.stop()
        self._listener.wait()
        self._transport.cleanup()
