import datetime

from wsme.rest import json as wsme_json
from wsme import types as wtypes

from solum_git.api import types


def _generic(datatype, value):
    """What WSME's own attribute-by-attribute encoder gives."""
    out = {}
    for attr in wtypes.list_attributes(datatype):
        item = getattr(value, attr.key)
        if item is wtypes.Unset:
            continue
        if isinstance(item, datetime.datetime):
            item = item.isoformat()
        elif isinstance(item, list) and item and isinstance(item[0], wtypes.Base):
            item = [_generic(type(i), i) for i in item]
        out[attr.name] = item
    return out


def test_fast_encoder_equals_wsmes_output():
    now = datetime.datetime(2026, 11, 25, 13, 0, 0, 123456)
    repo = types.Repo.from_view({'uuid': 'u1', 'name': 'app', 'description': None,
                                 'created_at': now, 'updated_at': None},
                                uri='http://x/repos/u1')
    encoded = wsme_json.tojson(types.Repo, repo)
    assert encoded == _generic(types.Repo, repo)
    assert encoded['created_at'] == '2026-11-25T13:00:00.123456'
    assert encoded['description'] is None and 'git_url' not in encoded


def test_fast_encoder_handles_nested_lists_and_json():
    run = types.Run.from_view({'uuid': 'r1', 'deliveries': [{'code': 200}],
                               'started_at': datetime.datetime(2026, 1, 1)})
    push = types.Push.from_view({'uuid': 'p1', 'runs': [run], 'refs': []})
    encoded = wsme_json.tojson(wtypes.ArrayType(types.Push), [push])
    assert encoded == [{'uuid': 'p1', 'refs': [], 'runs': [
        {'uuid': 'r1', 'deliveries': [{'code': 200}],
         'started_at': '2026-01-01T00:00:00'}]}]


# -- the fence on WSME's private storage (api/types.py _new_holder, _holder) ----

VIEW = {'uuid': 'u1', 'name': 'app', 'description': None, 'status': 'ACTIVE',
        'created_at': datetime.datetime(2026, 11, 25, 13, 0, 0, 123456)}


def _plain_copy(cls):
    """A type with the same fields, left to WSME's own generic encoder (ours are
    registered per class, at import)."""
    return type('Plain' + cls.__name__, (wtypes.Base,),
                {a.key: a.datatype for a in wtypes.list_attributes(cls)})


def test_from_view_values_read_back_through_wsmes_own_attributes():
    repo = types.Repo.from_view(VIEW, uri='http://x/repos/u1')
    for attr in wtypes.list_attributes(types.Repo):
        expected = dict(VIEW, uri='http://x/repos/u1').get(attr.name, wtypes.Unset)
        assert getattr(repo, attr.key) == expected, attr.name
    assert repo.given() == dict(VIEW, uri='http://x/repos/u1')


def test_fast_encoder_equals_wsmes_own_encoder_on_wsmes_own_object():
    plain = _plain_copy(types.Repo)
    wsmes = wsme_json.tojson(plain, plain(**{k: v for k, v in VIEW.items()
                                             if v is not None}))
    ours = wsme_json.tojson(types.Repo, types.Repo.from_view(VIEW))
    assert ours == dict(wsmes, description=None)
    assert ours['created_at'] == '2026-11-25T13:00:00.123456'
    # a value set through WSME's validating setattr lands where the encoder reads
    repo = types.Repo()
    repo.name = 'set-by-wsme'
    assert wsme_json.tojson(types.Repo, repo) == {'name': 'set-by-wsme'}
