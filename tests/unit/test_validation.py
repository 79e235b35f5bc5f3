import pytest

from solum_git.common import exception
from solum_git.common import validation


@pytest.mark.parametrize('name', ['a', 'app', 'my-app_1.2', 'A' * 100, '0start', 'x.gi'])
def test_repo_names_that_pass(name):
    assert validation.repo_name(name) == name


@pytest.mark.parametrize('name,rule', [
    ('', 'must be 1-100'),
    ('A' * 101, 'must be 1-100'),
    ('-lead', 'must be 1-100'),
    ('.hidden', 'must be 1-100'),
    ('_x', 'must be 1-100'),
    ('a/b', 'must be 1-100'),
    ('a b', 'must be 1-100'),
    ('@all', 'must be 1-100'),
    ('a..b', '".."'),
    ('app.git', '".git"'),
    ('APP.GIT', '".git"'),
    ('gitolite-admin', 'reserved'),
    ('Gitolite-Admin', 'reserved'),
    ('CREATOR', 'reserved'),
    ('ünï', 'must be 1-100'),
    ('a\nb', 'must be 1-100'),
    ('app\n', 'must be 1-100'),
    (5, 'must be 1-100'),
])
def test_repo_names_refused_with_the_rule(name, rule):
    with pytest.raises(exception.InvalidInput) as e:
        validation.repo_name(name)
    assert e.value.field == 'name'
    assert rule in e.value.rule


@pytest.mark.parametrize('glob', ['main', 'release/*', 'feature-?', '*', 'v[0-9]*'])
def test_branch_globs_that_pass(glob):
    assert validation.branch_glob(glob) == glob


@pytest.mark.parametrize('glob', ['', '../x', '/main', '-x', 'a b', 'x/', 'a;rm', 'main\n'])
def test_branch_globs_refused(glob):
    with pytest.raises(exception.InvalidInput) as e:
        validation.branch_glob(glob)
    assert e.value.field == 'branches'


@pytest.mark.parametrize('glob,ref,matches', [
    ('main', 'refs/heads/main', True),
    ('main', 'refs/heads/main2', False),
    ('release/*', 'refs/heads/release/1.0', True),
    ('*', 'refs/tags/v1', False),
    ('main', 'refs/tags/main', False),
])
def test_branch_matches(glob, ref, matches):
    assert validation.branch_matches(glob, ref) is matches


def test_text_refuses_control_characters():
    with pytest.raises(exception.InvalidInput, match='control characters'):
        validation.text('a\x07b', 'description', 10)


def test_ident_rule():
    assert validation.ident('abc-1.2_3', 'user_id')
    for bad in ('', 'a@b', 'a/b', '-a', 'x' * 65, 'alice\n'):
        with pytest.raises(exception.InvalidInput):
            validation.ident(bad, 'user_id')
