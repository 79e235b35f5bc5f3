"""pytest fixtures for the real OpenStack peers, one of each per test session (per xdist worker).

``tests/conftest.py`` imports them, so every test can ask for them by name:
``keystone`` (tests.peers.keystone.Keystone), ``swift`` (tests.peers.swift.Swift,
tempauth) and ``swift_keystone`` (tests.peers.swift.KeystoneSwift: a proxy over
the same Swift that takes tokens of ``keystone``). A peer that cannot be set
up fails the test that asks for it; none is ever skipped.
"""
import pytest


@pytest.fixture(scope='session')
def keystone(tmp_path_factory):
    from tests.peers import keystone as keystone_peer
    peer = keystone_peer.Keystone(tmp_path_factory.mktemp('keystone')).start()
    yield peer
    peer.stop()


@pytest.fixture(scope='session')
def swift(tmp_path_factory):
    # imported here: python-swiftclient missing fails the Swift tests, not the whole suite
    from tests.peers import swift as swift_peer
    peer = swift_peer.Swift(tmp_path_factory.mktemp('swift')).start()
    yield peer
    peer.stop()


@pytest.fixture(scope='session')
def swift_keystone(swift, keystone):
    peer = swift.behind_keystone(keystone)
    yield peer
    peer.stop()
