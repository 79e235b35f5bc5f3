"""/healthcheck's database check: OK when the database answers, 503's reason when not."""
from oslo_middleware import healthcheck
import webob

from solum_git.api import health
from solum_git import conf as conf_pkg
from tests import helpers


def _conf(tmp_path, connection):
    conf = conf_pkg.new()
    conf([], project='solum-git', default_config_files=[])
    conf.set_override('connection', connection, 'database')
    conf.set_override('state_path', str(tmp_path))
    return conf


def test_a_database_that_answers_is_ok(tmp_path):
    check = health.DatabaseCheck(_conf(tmp_path, 'sqlite:///%s/h.sqlite' % tmp_path), {})
    result = check.healthcheck(9778)
    assert (result.available, result.reason) == (True, 'database: OK')


def test_a_database_that_does_not_answer_is_unavailable_and_names_no_host(tmp_path):
    with helpers.closed_port() as port:
        url = 'postgresql+psycopg2://postgres@127.0.0.1:%d/nothing' % port
        check = health.DatabaseCheck(_conf(tmp_path, url), {})
        result = check.healthcheck(9778)
    assert (result.available, result.reason) == (False, 'database: does not answer')
    assert str(port) in result.details  # shown only with [healthcheck] detailed


def test_the_middleware_uses_it_by_default_and_answers_503(tmp_path):
    with helpers.closed_port() as port:
        conf = _conf(tmp_path, 'postgresql+psycopg2://postgres@127.0.0.1:%d/x' % port)
        app = healthcheck.Healthcheck(None, conf)
        resp = webob.Request.blank('/healthcheck').get_response(app)
    assert resp.status_int == 503
    assert resp.text == 'database: does not answer'
