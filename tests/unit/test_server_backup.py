"""solum-backup's stream protocols with real git, no ssh: ``bundles`` sends
verified bundles one after the other, ``restore`` takes chains link after
link, checks each link's sha256, stops at a broken one, and keeps the refs of
the repo it replaces that descend from the backup's."""
import hashlib
import io
import json
import os
import subprocess
import uuid

import pytest

from solum_git.server import backup

ENV = {'GIT_AUTHOR_NAME': 't', 'GIT_AUTHOR_EMAIL': 't@t', 'GIT_COMMITTER_NAME': 't',
       'GIT_COMMITTER_EMAIL': 't@t', 'GIT_CONFIG_NOSYSTEM': '1',
       'GIT_CONFIG_GLOBAL': '/dev/null'}


@pytest.fixture
def server(tmp_path, monkeypatch):
    home = tmp_path / 'home'
    (home / 'repositories').mkdir(parents=True)
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.setenv('GL_REPO_BASE', str(home / 'repositories'))
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    return home / 'repositories'


def git(git_dir, *args, stdin=None):
    done = subprocess.run(['git', '--git-dir', str(git_dir)] + list(args), input=stdin,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(git_dir, ref, message, parent=None):
    tree = git(git_dir, 'mktree', stdin='100644 blob %s\tf\n'
               % git(git_dir, 'hash-object', '-w', '--stdin', stdin=message))
    sha = git(git_dir, 'commit-tree', tree, '-m', message, *(['-p', parent] if parent else []))
    git(git_dir, 'update-ref', ref, sha)
    return sha


def refs(git_dir):
    out = git(git_dir, 'for-each-ref', '--format=%(refname) %(objectname)')
    return dict(line.split(' ') for line in out.splitlines())


def bundles(requests):
    """What ``solum-backup bundles`` answers: [(header, bundle bytes)]."""
    out = io.BytesIO()
    backup.cmd_bundles(io.BytesIO(''.join(json.dumps(r) + '\n' for r in requests).encode()),
                       out)
    stream, answers = io.BytesIO(out.getvalue()), []
    for _r in requests:
        header = json.loads(stream.readline())
        answers.append((header, stream.read(header['size_bytes'])))
    assert stream.read() == b''
    return answers


def uuid_of(name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def restore(repos):
    """``solum-backup restore`` of [(name, [(link header, bytes)])]: its answers."""
    data = b''
    for name, links in repos:
        data += json.dumps({'repo': name, 'uuid': uuid_of(name), 'branch': 'main',
                            'check': []}).encode() + b'\n'
        for header, body in links:
            data += json.dumps(dict(header, size_bytes=len(body))).encode() + b'\n' + body
    out = io.StringIO()
    backup.cmd_restore(io.BytesIO(data), out)
    answers = {}
    for answer in map(json.loads, out.getvalue().splitlines()):
        answers.setdefault(answer.get('repo'), {}).update(answer)
    return answers


def link(uuid, header, body):
    return ({'link': uuid, 'refs': header['refs'],
             'sha256': hashlib.sha256(body).hexdigest() if body else None}, body)


def test_a_chain_of_many_repos_goes_through_one_call_each_way(server):
    chains = {}
    for name in ('a', 'b', 'empty'):
        subprocess.run(['git', 'init', '-q', '--bare', str(server / (name + '.git'))],
                       check=True)
    first = {n: commit(server / (n + '.git'), 'refs/heads/main', n + '1') for n in 'ab'}
    answers = bundles([{'repo': n, 'bases': []} for n in ('a', 'b', 'empty')])
    assert [h['repo'] for h, _b in answers] == ['a', 'b', 'empty']
    assert answers[2][0]['size_bytes'] == 0 and answers[2][0]['refs'] == {}
    for header, body in answers:
        chains[header['repo']] = [link('%s-0' % header['repo'], header, body)]
    # an increment on a, a tag on b's backed-up commit (refs only, no bundle)
    second = commit(server / 'a.git', 'refs/heads/main', 'a2', parent=first['a'])
    git(server / 'b.git', 'update-ref', 'refs/tags/v1', first['b'])
    answers = bundles([{'repo': 'a', 'bases': [first['a']]},
                       {'repo': 'b', 'bases': [first['b']]}])
    assert answers[0][0]['size_bytes'] > 0 and answers[1][0]['size_bytes'] == 0
    for header, body in answers:
        chains[header['repo']].append(link('%s-1' % header['repo'], header, body))
    want = {n: refs(server / (n + '.git')) for n in ('a', 'b', 'empty')}
    for name in ('a', 'b', 'empty'):
        subprocess.run(['rm', '-rf', str(server / (name + '.git'))], check=True)
    got = restore([(n, chains[n]) for n in ('a', 'b', 'empty')])
    assert got['a']['restored'] == 'a-1' and got['b']['restored'] == 'b-1'
    assert got['empty']['restored'] == 'empty-0'
    for name in ('a', 'b', 'empty'):
        assert refs(server / (name + '.git')) == want[name]
        assert (server / (name + '.git') / 'solum-git-repo').read_text() == uuid_of(name) + '\n'
        assert not (server / (name + '.git') / backup.DOWN).exists()
    assert git(server / 'a.git', 'rev-parse', 'main') == second
    git(server / 'a.git', 'fsck', '--strict')


def test_a_corrupt_link_stops_the_chain_and_the_last_good_refs_are_set(server):
    subprocess.run(['git', 'init', '-q', '--bare', str(server / 'c.git')], check=True)
    one = commit(server / 'c.git', 'refs/heads/main', 'one')
    (h1, b1), = bundles([{'repo': 'c', 'bases': []}])
    two = commit(server / 'c.git', 'refs/heads/main', 'two', parent=one)
    (h2, b2), = bundles([{'repo': 'c', 'bases': [one]}])
    bad = bytearray(b2)
    bad[-30] ^= 0xff
    good2 = link('c-1', h2, b2)
    subprocess.run(['rm', '-rf', str(server / 'c.git')], check=True)
    got = restore([('c', [link('c-0', h1, b1), (good2[0], bytes(bad))])])
    assert got['c']['restored'] == 'c-0'
    assert got['c']['broken'] == 'c-1' and 'corrupt' in got['c']['why']
    assert refs(server / 'c.git') == {'refs/heads/main': one}
    assert two != one


def test_a_restore_keeps_refs_pushed_after_the_backup_and_resets_moved_ones(server):
    subprocess.run(['git', 'init', '-q', '--bare', str(server / 'k.git')], check=True)
    base = commit(server / 'k.git', 'refs/heads/main', 'base')
    commit(server / 'k.git', 'refs/heads/gone', 'gone')
    (header, body), = bundles([{'repo': 'k', 'bases': []}])
    newer = commit(server / 'k.git', 'refs/heads/main', 'newer', parent=base)
    commit(server / 'k.git', 'refs/heads/other', 'moved away')   # no common history
    git(server / 'k.git', 'update-ref', 'refs/heads/gone', newer)   # moved: not a descendant
    got = restore([('k', [link('k-0', header, body)])])
    assert got['k']['kept'] == {'refs/heads/main': newer,
                                'refs/heads/other': refs(server / 'k.git')['refs/heads/other']}
    now = refs(server / 'k.git')
    assert now['refs/heads/main'] == newer
    assert now['refs/heads/gone'] == header['refs']['refs/heads/gone']


def test_a_stream_that_ends_inside_a_bundle_restores_nothing_half(server):
    subprocess.run(['git', 'init', '-q', '--bare', str(server / 't.git')], check=True)
    commit(server / 't.git', 'refs/heads/main', 'x')
    (header, body), = bundles([{'repo': 't', 'bases': []}])
    before = refs(server / 't.git')
    head, _ = link('t-0', header, body)
    data = (json.dumps({'repo': 't', 'uuid': uuid_of('t'), 'branch': 'main',
                        'check': []}).encode()
            + b'\n' + json.dumps(dict(head, size_bytes=len(body))).encode() + b'\n'
            + body[:len(body) // 2])
    out = io.StringIO()
    backup.cmd_restore(io.BytesIO(data), out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {'repo': 't', 'failed': 'the stream ended inside a bundle'} in lines
    assert refs(server / 't.git') == before
    assert not (server / 't.git' / backup.DOWN).exists()
    assert [p for p in os.listdir(server) if p.startswith('.')] == []
