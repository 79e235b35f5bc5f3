"""Every endpoint and field fed hostile values, on every backend: never a 500."""
import itertools

import requests

from tests import helpers

HOSTILE = ['', ' ', 'a' * 5000, '\u0000', '\u202e', '../../etc/passwd', "' OR 1=1 --",
           '%00', '@all', 'CREATOR', '😀', -1, 0, 2 ** 63, 1.5, True, None, [], {},
           ['a'], {'a': {'b': [1]}}, 'ssh-ed25519 AAAA', '<script>x</script>',
           # names git or gitolite refuse or read otherwise
           'a.lock', 'HEAD', '@', '-x', '@{-1}', 'a//b', 'x.git1', 'a..b', 'refs/heads/x',
           # what a database or a JSON parser chokes on
           '\ud800', 'a\udfffb', 10 ** 30, -2 ** 64, 'x' * 100000,
           [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
           # where a webhook must not go
           'http://127.0.0.1/', 'http://2130706433/', 'http://[::ffff:127.0.0.1]/',
           'http://169.254.169.254/latest/meta-data/']

# whole bodies: each must be a 400 naming the body, on every write path
HOSTILE_BODIES = [
    ('{"name":' + '[' * 10000 + ']' * 10000 + '}', 'nest'),
    ('{"a":' * 5000 + '1' + '}' * 5000, 'nest'),
    ('{"name": ' + '[' * 40 + ']' * 40 + '}', 'nest'),
    ('{"name": "x", "description": 1e999999}', 'finite'),
    ('{"name": "x", "description": -1e999999}', 'finite'),
    ('{"name": "x", "description": %s}' % ('9' * 100000), 'integers'),
    ('{"name": "x", "description": %s}' % ('9' * 30), 'integers'),
    ('{"name": "x", "description": NaN}', 'NaN'),
    ('{"name": "x", "description": Infinity}', 'Infinity'),
    ('{"name": "x", "description": -Infinity}', 'Infinity'),
    ('{"name": "a", "name": "b"}', 'twice'),
    ('{"name": "x", "config": {"k": 1, "k": 2}}', 'twice'),
    ('\ufeff{"name": "bom"}'.encode(), 'byte order mark'),
    ('{"name": "u16"}'.encode('utf-16'), 'UTF-8'),
    ('{"name": "u32"}'.encode('utf-32'), 'UTF-8'),
    (b'{"name": "l\xe9"}', 'UTF-8'),
    (b'{"name": "\xed\xa0\x80"}', 'UTF-8'),
    ('{"name": "x", "description": "\\ud800"}', 'surrogate'),
    ('{"name": "x", "\\udfff": 1}', 'surrogate'),
    ('{"name": "x", "description": "a\\u0000b"}', 'NUL'),
    ('{"name": "x", "tags": ["\\u0000"]}', 'NUL'),
    ('{"name": "x"} {"name": "y"}', 'valid JSON'),
    ('[{"name": "x"}]', 'object'),
]


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
    for value in HOSTILE:
        body = {'type': 'webhook', 'config': {'url': value, 'secret': 's'}}
        _no_500(c.post(repo['triggers_uri'], body), body)
    headers = dict(c.session.headers)
    for data, _words in HOSTILE_BODIES:
        for method, path, _fields in writes + [('post', '/v1/hooks/post-receive', [])]:
            resp = requests.request(method, c._url(path), data=data, headers=headers,
                                    timeout=30)
            _no_500(resp, (method, path, data[:80]))
            assert resp.status_code == 400, (method, path, data[:80], resp.text[:200])
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
    assert c.get(repo['triggers_uri']).json() == []
