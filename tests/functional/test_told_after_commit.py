"""The one notification path on every database: what a transaction told (its
audit events) is handed to the Database's ``publish`` after its commit, once;
a rollback hands over nothing."""
from oslo_db import exception as db_exc
import pytest

from solum_git.common import events
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.messaging import events as notifications
from solum_git.services import audit
from solum_git.services import context


class Published:
    """The Database's ``publish``: what it was handed, and whether each event was
    already committed then (seen from a session of its own)."""

    def __init__(self, db):
        self.db = db
        self.events = []
        self.committed = []

    def __call__(self, told):
        self.events.extend(told)
        with self.db.reader() as session:
            for event in told:
                self.committed.append(session.query(models.Event).filter_by(
                    uuid=event['uuid']).count() == 1)

    def actions(self):
        return [e['action'] for e in self.events]


@pytest.fixture
def root(make_root, db_url):
    root = make_root(db_url)
    root.db.publish = Published(root.db)
    return root


ALICE = context.RequestContext(user_id='alice', project_id='project-a', overwrite=False)


def stored(root):
    with root.db.reader() as session:
        return [e.action for e in session.query(models.Event).order_by(models.Event.id)]


def test_audited_changes_are_published_after_their_commit(root):
    repo = root.services.repos.create(ALICE, 'app')
    root.services.members.set(ALICE, repo['uuid'], 'bob', 'RW')
    root.services.repos.update(ALICE, repo['uuid'], name='app2')
    published = root.db.publish
    assert published.actions() == ['repo.create', 'member.set', 'repo.rename']
    assert published.committed == [True, True, True]
    kind, body = notifications.notification(published.events[1])
    assert (kind, body) == ('solum_git.member.set', {
        'repo_id': repo['uuid'], 'project_id': 'project-a', 'user_id': 'bob',
        'permission': 'RW', 'previous': None})
    kind, body = notifications.notification(published.events[2])
    assert kind == 'solum_git.repo.rename'
    assert (body['old_name'], body['name']) == ('app', 'app2')


def test_a_rolled_back_transaction_publishes_nothing(root):
    with pytest.raises(RuntimeError):
        with root.db.writer() as session:
            audit.by(session, ALICE, events.MEMBER_SET, 'repo', 'r1', member='bob')
            raise RuntimeError('the change fails after its event was written')
    # and a refused change: its own rolled back, its denial not a notification
    repo = root.services.repos.create(ALICE, 'app')
    bob = context.RequestContext(user_id='bob', project_id='project-a', overwrite=False)
    root.services.members.set(ALICE, repo['uuid'], 'bob', 'RW')
    with pytest.raises(Exception, match='RW\\+'):
        root.services.members.set(bob, repo['uuid'], 'mallory', 'RW+')
    published = root.db.publish
    assert published.actions() == ['repo.create', 'member.set', 'member.set']
    assert notifications.notification(published.events[-1]) is None
    assert stored(root) == ['repo.create', 'member.set', 'member.set']


def test_a_retried_transaction_publishes_what_its_committed_attempt_told(root):
    attempts = []

    @db_api.retry_on_lock
    def change():
        with root.db.writer() as session:
            audit.by(session, ALICE, events.KEY_CREATE, 'key', 'k%d' % len(attempts))
            attempts.append(1)
            if len(attempts) == 1:
                raise db_exc.DBDeadlock()
    change()
    assert len(attempts) == 2
    assert [e['resource_uuid'] for e in root.db.publish.events] == ['k1']


def test_a_publish_that_fails_leaves_the_change_committed(root):
    def broken(told):
        raise RuntimeError('the bus exploded')
    root.db.publish = broken
    repo = root.services.repos.create(ALICE, 'app')
    assert root.services.repos.get(ALICE, repo['uuid'])['name'] == 'app'
    assert stored(root) == ['repo.create']
