"""A stack's private keys: sealed for the database, opened in the engine's copy."""
import types

import pytest

from solum_git.common import secretbox
from solum_git.db import models
from solum_git.db import stack_keys
from solum_git.engine import service
from solum_git.gitolite import admin
from tests import helpers


def _row(**values):
    plain = {c.name: None for c in models.Stack.__table__.columns}
    plain.update(values)
    return types.SimpleNamespace(**plain)


def test_sealed_keys_open_again_and_the_other_columns_pass_as_they_are(tmp_path):
    box = secretbox.SecretBox(helpers.make_conf(tmp_path, 'sqlite://'))
    key = admin.generate_key()
    values = stack_keys.sealed(box, {'admin_private_key': key, 'ssh_host': 'h',
                                     'http_tls_key': None})
    assert 'PRIVATE KEY' not in values['admin_private_key']
    assert (values['ssh_host'], values['http_tls_key']) == ('h', None)
    row = _row(uuid='u', **values)
    assert stack_keys.snapshot(box, row).admin_private_key == key
    # without a box: the row's other columns, no key (opened or not)
    assert stack_keys.snapshot(None, row).admin_private_key is None
    assert stack_keys.snapshot(None, row).uuid == 'u'


def test_a_key_sealed_under_a_dropped_key_does_not_open(tmp_path):
    conf = helpers.make_conf(tmp_path, 'sqlite://')
    row = _row(ssh_host_private_key=secretbox.SecretBox(conf).seal('x'))
    conf.set_override('fernet_keys', [secretbox.new_key()], group='secrets')
    with pytest.raises(secretbox.Undecryptable):
        stack_keys.snapshot(secretbox.SecretBox(conf), row)


def test_an_engine_with_no_secrets_key_does_not_start(tmp_path):
    conf = helpers.make_conf(tmp_path, 'sqlite://', secrets={'fernet_keys': []})
    with pytest.raises(secretbox.NoKey):
        service.Engine(conf, db=None, provisioner=None)
