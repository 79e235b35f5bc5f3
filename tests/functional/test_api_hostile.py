"""Every endpoint and field fed hostile values, on every backend: never a 500."""
import itertools

from tests import helpers

HOSTILE = ['', ' ', 'a' * 5000, '\u0000', '\u202e', '../../etc/passwd', "' OR 1=1 --",
           '%00', '@all', 'CREATOR', '😀', -1, 0, 2 ** 63, 1.5, True, None, [], {},
           ['a'], {'a': {'b': [1]}}, 'ssh-ed25519 AAAA', '<script>x</script>']


def _bodies(fields):
    for field, value in itertools.product(fields, HOSTILE):
        yield {field: value}
        yield {'name': 'ok', field: value}


def _no_500(resp, what):
    assert resp.status_code < 500, (what, resp.status_code, resp.text[:300])
    if resp.status_code >= 400:
        assert 'faultstring' in resp.json(), what


def test_no_hostile_value_gets_a_500(api):
    c = helpers.Client(api.url, 'p1', 'u1')
    repo = c.post('/v1/infrastructure/repos', {'name': 'target'}).json()
    stack_uri = repo['stack_uri']
    writes = [
        ('post', '/v1/infrastructure/repos', ['name', 'description', 'default_branch']),
        ('put', repo['uri'], ['name', 'description', 'default_branch']),
        ('post', '/v1/infrastructure/keys', ['name', 'public_key']),
        ('put', repo['members_uri'] + '/someone', ['permission']),
        ('post', repo['triggers_uri'], ['type', 'branches', 'config']),
        ('put', stack_uri, ['name', 'description', 'tags']),
        ('post', stack_uri + '/actions', ['action']),
    ]
    for method, path, fields in writes:
        for body in _bodies(fields):
            _no_500(getattr(c, method)(path, body), (method, path, body))
    for field, value in itertools.product(['type', 'branches'], HOSTILE):
        body = {'type': 'webhook', 'config': {'url': value, 'secret': value}}
        body[field] = value
        _no_500(c.post(repo['triggers_uri'], body), body)
    for param, value in itertools.product(['limit', 'marker', 'sort_key', 'sort_dir'],
                                          ['', 'x' * 3000, '-5', '1e9', '%27', 'id']):
        for path in ('/v1/infrastructure/repos', '/v1/infrastructure/keys',
                     '/v1/infrastructure/stacks', repo['pushes_uri']):
            _no_500(c.get(path, params={param: value}), (path, param, value))
    for ident in ('x' * 3000, '%2e%2e', 'null', '-1', '\u00e9'):
        for base in ('/v1/infrastructure/repos/', '/v1/infrastructure/stacks/',
                     '/v1/infrastructure/keys/', '/v1/infrastructure/runs/',
                     repo['members_uri'] + '/', repo['triggers_uri'] + '/',
                     repo['pushes_uri'] + '/'):
            _no_500(c.get(base + ident), base + ident)
            _no_500(c.delete(base + ident), base + ident)
    # the target repo is untouched by all of it
    again = c.get(repo['uri']).json()
    assert again['name'] == 'target' and again['status'] == 'BUILDING'
    assert [m['user_id'] for m in c.get(repo['members_uri']).json()] == ['u1']
