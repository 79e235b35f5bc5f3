"""The real Keystone test peer (tests/peers/keystone.py) does what later tests rely on:
password tokens through keystoneauth1, trusts to the solum-git service user and
trust-scoped tokens, and keystonemiddleware's auth_token validating its tokens."""
from keystoneauth1 import exceptions as ks_exc
from keystonemiddleware import auth_token
import pytest
import webob
import webob.dec


def _validate(keystone, token):
    """Keystone's own answer to GET /v3/auth/tokens for ``token`` (raises on 404)."""
    return keystone.call('GET', '/auth/tokens', headers={'X-Subject-Token': token}).json()['token']


def test_password_token_carries_the_users_project_and_roles(keystone):
    alice = keystone.make_user(roles=('member',))
    token = keystone.token(alice)
    body = _validate(keystone, token)
    assert body['user']['id'] == alice.id
    assert body['project']['id'] == alice.project_id
    assert {r['name'] for r in body['roles']} == {'member', 'reader'}  # member implies reader
    identity = [s for s in body['catalog'] if s['type'] == 'identity']
    assert identity[0]['endpoints'][0]['url'] == keystone.url


def test_users_get_the_roles_asked_on_their_project(keystone):
    root = keystone.make_user(roles=('admin',))
    both = keystone.make_user(project=root.project_name, roles=('member', 'service'))
    assert both.project_id == root.project_id
    for user, roles in ((root, {'admin', 'manager', 'member', 'reader'}),  # implied roles
                        (both, {'member', 'reader', 'service'})):
        body = _validate(keystone, keystone.token(user))
        assert {r['name'] for r in body['roles']} == roles
        assert body['user']['name'] == user.name


def test_wrong_password_gets_no_token(keystone):
    alice = keystone.make_user()
    wrong = alice.__class__(**dict(vars(alice), password='not-the-password'))
    with pytest.raises(ks_exc.Unauthorized):
        keystone.token(wrong)


def test_service_user_is_in_the_service_project_with_the_service_role(keystone):
    body = _validate(keystone, keystone.token(keystone.service_user))
    assert body['user']['name'] == 'solum-git'
    assert body['project']['name'] == 'service'
    assert {r['name'] for r in body['roles']} == {'service'}


def test_trust_to_the_service_user_gives_a_trust_scoped_token_until_deleted(keystone):
    alice = keystone.make_user(roles=('member',))
    trust_id = keystone.create_trust(alice, keystone.service_user, roles=('member',))
    assert keystone.get_trust(keystone.service_user, trust_id)['trustor_user_id'] == alice.id

    # keystoneauth1's v3 password plugin with trust_id: the service user acting for alice
    trust_session = keystone.session(keystone.service_user, trust_id=trust_id)
    token = trust_session.get_token()
    body = _validate(keystone, token)
    assert body['OS-TRUST:trust']['id'] == trust_id
    assert body['user']['id'] == alice.id  # impersonation
    assert body['project']['id'] == alice.project_id
    assert {r['name'] for r in body['roles']} == {'member', 'reader'}

    keystone.delete_trust(alice, trust_id)
    assert keystone.get_trust(alice, trust_id) is None
    with pytest.raises(ks_exc.NotFound):
        _validate(keystone, token)
    with pytest.raises((ks_exc.Unauthorized, ks_exc.NotFound)):
        keystone.session(keystone.service_user, trust_id=trust_id).get_token()


def test_only_the_trustor_can_delegate(keystone):
    alice, mallory = keystone.make_user(), keystone.make_user()
    with pytest.raises(ks_exc.Forbidden):
        keystone.call('POST', '/OS-TRUST/trusts', {'trust': {
            'trustor_user_id': alice.id, 'trustee_user_id': keystone.service_user.id,
            'project_id': alice.project_id, 'impersonation': True,
            'roles': [{'name': 'member'}]}}, sess=keystone.session(mallory))


@webob.dec.wsgify
def _whoami(request):
    return webob.Response(json_body={
        'user': request.headers.get('X-User-Id'), 'project': request.headers.get('X-Project-Id'),
        'roles': request.headers.get('X-Roles')})


@pytest.fixture
def protected_app(keystone):
    """A tiny WSGI app behind keystonemiddleware's auth_token, solum-git's service user."""
    user = keystone.service_user
    return auth_token.AuthProtocol(_whoami, {
        'auth_type': 'password', 'auth_url': keystone.url, 'www_authenticate_uri': keystone.url,
        'username': user.name, 'password': user.password, 'project_name': user.project_name,
        'user_domain_id': user.domain_id, 'project_domain_id': user.domain_id,
        'delay_auth_decision': 'false'})


def test_auth_token_middleware_accepts_a_real_token(keystone, protected_app):
    alice = keystone.make_user(roles=('member',))
    response = webob.Request.blank('/', headers={
        'X-Auth-Token': keystone.token(alice)}).get_response(protected_app)
    assert response.status_int == 200, response.text
    body = response.json
    assert (body['user'], body['project']) == (alice.id, alice.project_id)
    assert set(body['roles'].split(',')) == {'member', 'reader'}


def test_auth_token_middleware_refuses_missing_and_forged_tokens(keystone, protected_app):
    assert webob.Request.blank('/').get_response(protected_app).status_int == 401
    alice = keystone.make_user()
    forged = keystone.token(alice)[:-4] + 'AAAA'
    response = webob.Request.blank('/', headers={'X-Auth-Token': forged}).get_response(
        protected_app)
    assert response.status_int == 401
    assert keystone.url in response.headers['WWW-Authenticate']
