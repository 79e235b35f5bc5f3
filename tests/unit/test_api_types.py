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
