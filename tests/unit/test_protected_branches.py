"""The protected-branch and quota rule (solum_git/server/policy.py), the files the
engine renders for it, and the pre-receive guard on a real bare repo."""
import base64
import io
import json
import os
import subprocess
import sys
import types

import pytest

from solum_git.common import quotas
from solum_git.conf import quota
from solum_git.gitolite import render
from solum_git.server import guard
from solum_git.server import policy

Z = '0' * 40
A, B = 'a' * 40, 'b' * 40


def rule(pattern='main', push='RW+', force=False, delete=False):
    return {'pattern': pattern, 'push': push, 'allow_force_push': force,
            'allow_delete': delete}


def decide(rules, user='u-bob', ref='refs/heads/main', old=A, new=B, ff=True,
           rewinders=('u-alice',)):
    asked = []

    def is_ancestor(a, b):
        asked.append((a, b))
        return ff
    return policy.decide(rules, set(rewinders), user, ref, old, new, is_ancestor), asked


def test_rw_is_refused_on_a_rw_plus_branch_and_the_rule_is_named():
    why, _ = decide([rule()])
    assert why == ('protected branch rule "main": refs/heads/main: only RW+ members '
                   'may push (u-bob is not RW+)')


def test_rw_plus_fast_forwards_and_a_feature_branch_is_free():
    assert decide([rule()], user='u-alice')[0] is None
    assert decide([rule()], ref='refs/heads/feature')[0] is None
    assert decide([rule('release/*')], ref='refs/tags/release/1')[0] is None


def test_force_push_and_delete_are_refused_for_everyone_unless_allowed():
    why, asked = decide([rule()], user='u-alice', ff=False)
    assert 'may not be force-pushed (allow_force_push is false)' in why
    assert asked == [(A, B)]
    assert decide([rule(force=True)], user='u-alice', ff=False)[0] is None
    why, asked = decide([rule()], user='u-alice', new=Z)
    assert 'may not be deleted (allow_delete is false)' in why and asked == []
    assert decide([rule(delete=True)], user='u-alice', new=Z)[0] is None


def test_creating_a_protected_branch_needs_no_ancestry_and_rw_rules_take_rw():
    why, asked = decide([rule(push='RW')], old=Z)
    assert why is None and asked == []
    assert decide([rule(push='RW')])[0] is None


def test_the_strictest_matching_rule_wins():
    rules = [rule('release/*', push='RW', force=True), rule('release/1*')]
    why, _ = decide(rules, ref='refs/heads/release/10')
    assert why.startswith('protected branch rule "release/1*"')
    assert decide(rules, ref='refs/heads/release/2')[0] is None


def test_size_refusal_is_no_worsen():
    mib = policy.MIB
    assert policy.size_refusal(3 * mib, 1 * mib, 2 * mib) == (
        'quota repo_size_mb: this push would make the repo 3.0 MiB (it is 1.0 MiB), '
        'its quota is 2.0 MiB; pushes that do not grow it are still taken')
    assert policy.size_refusal(2 * mib, 1 * mib, 2 * mib) is None
    assert policy.size_refusal(5 * mib, 5 * mib, 2 * mib) is None     # no growth
    assert policy.size_refusal(4 * mib, 5 * mib, 2 * mib) is None     # shrinks
    assert policy.size_refusal(9 * mib, 1, -1) is None                 # no limit


def _render(protected, members=(), size=-1):
    return render.render([render.Repo('web'), render.Repo('docs')],
                         [render.Member(*m) for m in members], [],
                         'ssh-ed25519 ' + _key(), protected=protected,
                         repo_size_bytes=size)


def _key():
    blob = b'\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20' + b'k' * 32
    return base64.b64encode(blob).decode()


def test_render_writes_one_file_per_repo_with_rules_and_its_rw_plus_users():
    out = _render([render.ProtectedBranch('web', 'main', 'RW+', False, True),
                   render.ProtectedBranch('gone', 'main', 'RW', False, False)],
                  [('web', 'alice', 'RW+'), ('web', 'bob', 'RW'), ('docs', 'carol', 'RW+')])
    files = {k: v for k, v in out.files.items() if k.startswith(policy.TOP_DIR)}
    assert list(files) == ['solum/branches/web.json']
    assert json.loads(files['solum/branches/web.json']) == {
        'rewinders': ['u-alice'], 'rules': [rule('main', delete=True)]}
    assert 'main' not in out.conf and 'VREF' not in out.conf   # not in gitolite.conf


def test_render_writes_the_quota_only_when_there_is_one():
    assert policy.QUOTA_FILE not in _render([]).files
    files = _render([], size=5 * policy.MIB).files
    assert json.loads(files[policy.QUOTA_FILE]) == {'repo_size_bytes': 5 * policy.MIB}


def test_an_unsafe_rule_row_is_rendered_as_strict_as_can_be():
    out = _render([render.ProtectedBranch('web', 'a..b', 'X', True, True)],
                  [('web', 'alice', 'RW+')])
    assert json.loads(out.files['solum/branches/web.json'])['rules'] == [rule('*')]
    assert out.skipped and 'protected branch' in out.skipped[0][0]


# -- the guard on a real repo -------------------------------------------------------
def _git(*args, cwd=None, env=None):
    done = subprocess.run(['git'] + list(args), cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, GIT_CONFIG_GLOBAL='/dev/null',
                                   GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@t',
                                   GIT_COMMITTER_NAME='t', GIT_COMMITTER_EMAIL='t@t',
                                   **(env or {})))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def server(tmp_path):
    """A bare repo as gitolite keeps it, with the guard as its pre-receive hook."""
    home = types.SimpleNamespace(admin_base=str(tmp_path / 'admin'))
    os.makedirs(os.path.join(home.admin_base, policy.BRANCHES_DIR))
    bare = tmp_path / 'web.git'
    _git('init', '-q', '--bare', '-b', 'main', str(bare))
    work = tmp_path / 'work'
    _git('init', '-q', '-b', 'main', str(work))
    (work / 'a').write_text('a\n')
    _git('add', '-A', cwd=work)
    _git('commit', '-q', '-m', 'one', cwd=work)
    _git('push', '-q', str(bare), 'main', cwd=work)
    hook = bare / 'hooks' / 'pre-receive'
    # the guard in this python, as gitolite would start it (GL_* from the env)
    hook.write_text('#!/bin/sh\nexec %s -c "import sys; from solum_git.server import '
                    'guard, common; h = common.Home(); h.admin_base = %r; '
                    'sys.exit(guard._guard([], h))"\n'
                    % (sys.executable, home.admin_base))
    hook.chmod(0o755)
    return types.SimpleNamespace(home=home, bare=bare, work=work, tmp=tmp_path)


def _files(server, rules=None, rewinders=(), size=None):
    if rules is not None:
        with open(os.path.join(server.home.admin_base, policy.branches_file('web')),
                  'w') as f:
            f.write(policy.branches_text(rules, rewinders))
    if size is not None:
        with open(os.path.join(server.home.admin_base, policy.QUOTA_FILE), 'w') as f:
            f.write(policy.quota_text(size))


def _push(server, *refspecs, user='u-bob', force=False):
    env = {'GL_REPO': 'web', 'GL_USER': user,
           'PYTHONPATH': os.path.dirname(os.path.dirname(os.path.dirname(
               os.path.abspath(__file__))))}
    return subprocess.run(['git', 'push', '-q'] + (['--force'] if force else [])
                          + [str(server.bare)] + list(refspecs), cwd=server.work,
                          capture_output=True, text=True,
                          env=dict(os.environ, GIT_CONFIG_GLOBAL='/dev/null', **env))


def _commit(server, name, data):
    (server.work / name).write_bytes(data)
    _git('add', '-A', cwd=server.work)
    _git('commit', '-q', '-m', name, cwd=server.work)


def test_the_guard_refuses_what_the_rule_refuses_and_git_applies_nothing(server):
    _files(server, [rule()], ['u-alice'])
    _commit(server, 'b', b'b\n')
    done = _push(server, 'main')
    assert done.returncode != 0
    assert 'solum-git: refused: protected branch rule "main"' in done.stderr
    assert _git('--git-dir', str(server.bare), 'rev-parse', 'main') != \
        _git('rev-parse', 'HEAD', cwd=server.work)
    assert _push(server, 'main', user='u-alice').returncode == 0
    assert _push(server, 'main:feature').returncode == 0


def test_a_torn_rule_file_fails_closed(server):
    with open(os.path.join(server.home.admin_base, policy.branches_file('web')), 'w') as f:
        f.write('{"rules": [')
    _commit(server, 'b', b'b\n')
    done = _push(server, 'main:feature')
    assert done.returncode != 0 and 'not a JSON object' in done.stderr, done.stderr


def test_the_quota_counts_what_is_reachable_after_the_push(server):
    _files(server, size=256 * 1024)
    _git('checkout', '-q', '-b', 'bulk', cwd=server.work)
    _commit(server, 'bulk', os.urandom(400 * 1024))
    done = _push(server, 'bulk')
    assert done.returncode != 0 and 'quota repo_size_mb' in done.stderr, done.stderr
    _files(server, size=-1)
    assert _push(server, 'bulk').returncode == 0
    _files(server, size=256 * 1024)
    # the repo is over its quota now; a deletion shrinks it and is taken
    assert _push(server, ':bulk').returncode == 0
    # objects of the deleted branch stay on disk until gc: they do not count
    _git('checkout', '-q', 'main', cwd=server.work)
    _commit(server, 'small', b'small\n')
    done = _push(server, 'main')
    assert done.returncode == 0, done.stderr


def test_check_skips_the_admin_repo_and_stdin_lines_are_read(server):
    out = io.StringIO()
    home = types.SimpleNamespace(admin_base=server.home.admin_base,
                                 env={'GL_REPO': 'gitolite-admin', 'GL_USER': 'u-x'})
    _files(server, [rule()])
    assert guard._guard([], home, io.StringIO('%s %s refs/heads/main\n' % (A, B)),
                        out) == 0
    assert out.getvalue() == ''


def test_the_quota_names_are_the_quota_options():
    assert tuple(opt.dest for opt in quota.opts) == quotas.NAMES
