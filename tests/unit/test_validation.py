import os
import re
import subprocess

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


# -- git's ref name rules -----------------------------------------------------------
# Hostile branch names; the Python rule must give git's own verdict on each.
GIT_TABLE = [
    'main', 'a', 'release/1.0', 'feature/x-y_z', 'v1.2.3', 'a.lock', 'a.lock/b',
    'b/a.lock', 'a.locked', 'lock', '.lock', 'a..b', '..', '.', '.a', 'a/.b', 'a.',
    'a/', '/a', 'a//b', '//', '/', 'a b', 'a\tb', 'a\nb', 'a\x01b', 'a\x7fb',
    'a~b', 'a^b', 'a:b', 'a?b', 'a*b', 'a[b', 'a]b', 'a\\b', 'a@{b', '@{-1}', '@{u}',
    'a@b', '@', '@/x', 'x/@', '@@', 'HEAD', 'HEAD/x', 'x/HEAD', 'head', '-x', '-',
    'x-', '--', 'a{b}', 'a}b', 'a{', 'a,b', 'a%b', 'a=b', 'a+b', 'a!b', 'a#b', 'a$b',
    'a&b', 'a;b', 'a|b', "a'b", 'a"b', 'a`b', 'a(b)', 'a<b>', 'ünï', 'a\u202eb',
    '😀', 'refs/heads/x', 'refs', 'x' * 255, 'a/b/c/d/e', 'a.b.c', 'a...b',
    '.hidden/x', 'x/.hidden', 'x/y.', 'x./y', 'x.lock.', 'x.lock~', '@{', '{@',
    'a@', '@a', 'a/@{x}/b', 'a/-b', 'a-/b',
]


def _git_accepts(name, tmp_path):
    """``git check-ref-format --branch`` outside any repository."""
    env = {'PATH': os.environ['PATH'], 'HOME': str(tmp_path), 'LANG': 'C',
           'GIT_CONFIG_NOSYSTEM': '1', 'GIT_CEILING_DIRECTORIES': str(tmp_path)}
    done = subprocess.run(['git', 'check-ref-format', '--branch', name], cwd=tmp_path,
                          env=env, capture_output=True)
    return done.returncode == 0


def test_python_ref_rule_gives_gits_own_verdict_on_every_hostile_name(tmp_path):
    disagree = [(name, _git_accepts(name, tmp_path), validation.branch_error(name))
                for name in GIT_TABLE
                if _git_accepts(name, tmp_path) != (validation.branch_error(name) is None)]
    assert disagree == []
    # the table holds both verdicts (the test would pass on a rule that says
    # yes or no to everything otherwise)
    verdicts = {_git_accepts(name, tmp_path) for name in GIT_TABLE}
    assert verdicts == {True, False}


@pytest.mark.parametrize('name', [n for n in GIT_TABLE])
def test_default_branch_never_takes_a_name_git_refuses(name, tmp_path):
    try:
        validation.branch_name(name)
    except exception.InvalidInput as e:
        assert e.field == 'default_branch'
        assert e.rule.startswith('must be a git branch name')
        return
    # accepted: git takes it, and so does gitolite's command line
    assert _git_accepts(name, tmp_path)
    assert re.fullmatch(r'[-0-9a-zA-Z._@/+ :,%=]*', name)


@pytest.mark.parametrize('name,rule', [
    ('a.lock', '".lock"'), ('HEAD', '"HEAD"'), ('@', '"@"'), ('-x', 'leading "-"'),
    ('refs/heads/x', '"refs/"'),
    ('a..b', '".."'), ('a@{b', 'characters of'), ('a//b', '"//"'), ('a/', 'trailing "/"'),
    ('a.', 'trailing "."'), ('.a', 'starting with "."'), ('a b', 'characters of'),
    ('a{b}', 'characters of'), ('ünï', 'characters of'), ('', 'characters of'),
    ('x' * 256, '1-255'), (5, 'characters of'), (None, 'characters of'),
])
def test_default_branch_refusals_name_the_rule(name, rule):
    with pytest.raises(exception.InvalidInput) as e:
        validation.branch_name(name)
    assert rule in e.value.rule


@pytest.mark.parametrize('glob', ['release/[0-9]*', 'v?.*', 'feat-[!x]', '*/*', '@x*'])
def test_branch_globs_that_can_match_real_branches_pass(glob):
    assert validation.branch_glob(glob) == glob


@pytest.mark.parametrize('glob,rule', [
    ('*.lock', '".lock"'), ('HEAD', '"HEAD"'), ('.*', 'starting with "."'),
    ('*/', 'trailing "/"'), ('a[b', 'characters of'), ('a{b,c}', 'characters of'),
    ('*@{*', 'characters of'), ('a/**/..', '".."'), ('x' * 256, '1-255'),
])
def test_branch_globs_no_branch_could_match_are_refused(glob, rule):
    with pytest.raises(exception.InvalidInput) as e:
        validation.branch_glob(glob)
    assert e.value.field == 'branches'
    assert rule in e.value.rule


@pytest.mark.parametrize('ref,ok', [
    ('refs/heads/main', True), ('refs/tags/v1.0', True), ('refs/heads/a.lock', False),
    ('refs/heads/a..b', False), ('refs/heads/', False), ('refs', False), ('@', False),
    ('refs/heads/ünï', True),
])
def test_full_ref_names_follow_git(ref, ok, tmp_path):
    assert (validation.refname_error(ref) is None) is ok
    done = subprocess.run(['git', 'check-ref-format', ref], capture_output=True)
    assert (done.returncode == 0) is ok


def test_repo_names_gitolite_would_read_as_a_trace_level_are_refused():
    for name in ('app.git1', 'app.GIT9'):
        with pytest.raises(exception.InvalidInput, match='digit'):
            validation.repo_name(name)
    assert validation.repo_name('app.git1x') == 'app.git1x'
