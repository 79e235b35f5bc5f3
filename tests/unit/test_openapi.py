"""The OpenAPI document against the live controllers and WSME types, both ways.

Each checker is also shown to fail: a document or a controller tree changed by
one route or one field makes it name exactly that.
"""
import copy

import openapi_spec_validator
import pecan
from pecan import rest
import pytest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers import root
from solum_git.api import openapi
from solum_git.api.openapi import fields
from solum_git.api.openapi import schemas
from solum_git.api import types
from solum_git.services import triggers
from tests import openapi_check as check

SETTINGS = openapi.Settings('/', 'noauth', 100, 1000, 1024 * 1024)
REPO = '/v1/infrastructure/repos/{uuid}'


@pytest.fixture(scope='module')
def doc():
    return openapi.document(SETTINGS)


@pytest.fixture(scope='module')
def routes():
    return check.live_routes(root.RootController())


def test_document_is_valid_openapi_3_1(doc):
    openapi_spec_validator.validate(doc)
    assert doc['openapi'] == '3.1.0'
    assert doc['info']['version'][0].isdigit()


def test_every_live_route_is_documented_and_nothing_else(doc, routes):
    assert len(routes) == 54
    assert check.route_problems(doc, routes) == []


def test_every_wsme_field_is_documented_and_nothing_else(doc):
    assert check.type_problems(doc) == []
    assert check.unused_schemas(doc) == []


def test_a_field_missing_from_the_document_is_named(doc):
    broken = copy.deepcopy(doc)
    del broken['components']['schemas']['Repo']['properties']['git_url']
    assert check.type_problems(broken) == ['Repo.git_url: a field not in the document']


def test_a_documented_field_the_type_lacks_is_named(doc):
    broken = copy.deepcopy(doc)
    broken['components']['schemas']['Run']['properties']['exit_code'] = {
        'type': 'integer'}
    broken['components']['schemas']['Key']['properties']['type'] = {'type': 'integer'}
    assert check.type_problems(broken) == [
        "Key.type: JSON type ['integer'], WSME type ['string']",
        'Run.exit_code: in the document, not a field']


def test_an_open_schema_is_named(doc):
    broken = copy.deepcopy(doc)
    del broken['components']['schemas']['Member']['additionalProperties']
    assert check.type_problems(broken) == ['Member: other properties allowed']


def test_an_undocumented_route_is_named(doc):
    class Extra(rest.RestController):
        @wsme_pecan.wsexpose(types.Repo, types.text)
        def get_one(self, uuid):
            pass

    class Root(root.RootController):
        extra = Extra()

    problems = check.route_problems(doc, check.live_routes(Root()))
    assert problems == ['GET /extra/{uuid}: served but not in the document']


def test_a_route_the_code_lost_is_named(doc, routes):
    alive = [r for r in routes if (r.method, r.path) != ('DELETE', REPO)]
    assert check.route_problems(doc, alive) == [
        'DELETE %s: in the document but not served' % REPO]


def test_parameters_bodies_and_statuses_are_compared(doc, routes):
    broken = copy.deepcopy(doc)
    repos = broken['paths']['/v1/infrastructure/repos']
    repos['get']['parameters'].pop()                     # the name filter
    repos['post']['responses']['200'] = repos['post']['responses'].pop('201')
    broken['paths'][REPO]['put']['requestBody']['content']['application/json'][
        'schema'] = schemas.ref('StackInput')
    assert check.route_problems(broken, routes) == [
        "GET /v1/infrastructure/repos: query parameters {'limit': 'integer', 'marker': "
        "'string', 'sort_key': 'string', 'sort_dir': 'string'}, the code takes "
        "{'limit': 'integer', 'marker': 'string', 'sort_key': 'string', "
        "'sort_dir': 'string', 'name': 'string'}",
        'POST /v1/infrastructure/repos: success statuses [200], the code answers 201',
        'PUT %s: request body StackInput, the code takes RepoInput' % REPO]


def test_the_walker_refuses_a_route_kind_it_does_not_know():
    class Odd(rest.RestController):
        @pecan.expose('json')
        def search(self):
            pass

    class Root(root.RootController):
        odd = Odd()

    with pytest.raises(AssertionError, match='Odd.search'):
        check.live_routes(Root())


def test_the_walker_refuses_a_lookup_it_cannot_follow():
    class Dynamic(rest.RestController):
        @pecan.expose()
        def _lookup(self, *remainder):
            pass

    class Root(root.RootController):
        dynamic = Dynamic()

    with pytest.raises(AssertionError, match='Dynamic._lookup'):
        check.live_routes(Root())


def test_a_type_field_without_words_stops_the_build(monkeypatch):
    table = dict(fields.FIELDS)
    table[types.Repo] = {k: v for k, v in table[types.Repo].items() if k != 'git_url'}
    monkeypatch.setattr(fields, 'FIELDS', table)
    with pytest.raises(ValueError, match=r"Repo: fields.py FIELDS lacks \['git_url'\]"):
        openapi.document(SETTINGS)


def test_read_only_fields_are_those_no_input_type_has(doc):
    repo = doc['components']['schemas']['Repo']['properties']
    writable = sorted(n for n, p in repo.items() if not p.get('readOnly'))
    assert writable == ['default_branch', 'description', 'name', 'restore_from']
    assert doc['components']['schemas']['RepoInput']['properties']['name'][
        'pattern'] == fields.REPO_NAME


def test_rules_come_from_the_code(doc):
    props = doc['components']['schemas']
    assert props['Member']['properties']['permission']['enum'] == ['R', 'RW', 'RW+']
    assert props['Run']['properties']['status']['enum'] == [
        'QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'ERROR']
    assert props['Trigger']['properties']['type']['enum'] == list(triggers.TYPES)
    assert props['TriggerInput']['properties']['branches']['pattern'] == (
        fields.BRANCH_GLOB)


def test_trigger_config_schemas_are_the_services_settings(doc):
    found = doc['components']['schemas']
    for type_, name in (('local', 'LocalConfig'), ('webhook', 'WebhookConfig'),
                        ('solum', 'SolumConfig')):
        assert set(found[name]['properties']) == set(triggers._CONFIG[type_])
        assert sorted(found[name]['required']) == sorted(triggers._REQUIRED[type_])


def test_security_follows_the_auth_strategy(doc):
    assert doc['security'][0] == {'ProjectId': [], 'UserId': []}
    keystone = openapi.document(SETTINGS._replace(auth_strategy='keystone'))
    assert keystone['security'] == [{'KeystoneToken': []}]
    assert 'ProjectId' not in keystone['components']['securitySchemes']
    for path, method in (('/', 'get'), ('/v1/openapi.json', 'get')):
        assert doc['paths'][path][method]['security'] == []
    hook = doc['paths']['/v1/hooks/post-receive']['post']['security']
    assert sorted(hook[0]) == ['HookNonce', 'HookSignature', 'HookStack',
                               'HookTimestamp']


def test_the_served_bytes_are_built_once_per_settings():
    first = openapi.encoded(SETTINGS)
    assert openapi.encoded(SETTINGS) is first
    assert openapi.encoded(SETTINGS._replace(server_url='https://git.example')) \
        is not first


def test_healthcheck_is_outside_the_document_and_the_document_says_so(doc):
    # oslo.middleware answers it before Pecan: no live route, no path here
    assert not [p for p in doc['paths'] if 'health' in p]
    assert 'Outside this document: GET/HEAD /healthcheck' in doc['info']['description']
