"""solum-pre-receive: protected branches and the repo size quota, at push time.

gitolite runs it for every push, SSH and HTTP alike (the HTTP front goes through
gitolite-shell), with GL_REPO and GL_USER set; the shim starts it only for a repo
with rules or a project with a quota. Refusals print as ``solum-git: refused:``.
"""
import json
import os
import subprocess
import sys

from solum_git.server import common
from solum_git.server import names
from solum_git.server import policy


def read_json(path):
    """The file's object, None if absent; a torn one stops the push (fail closed)."""
    text = common.read_text(path, None)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise common.Fatal('%s is not a JSON object; resync the server'
                           % os.path.basename(path))
    return value


def _git(git_dir, *args, stdin=None):
    return subprocess.run(['git', '--git-dir=' + git_dir] + list(args), input=stdin,
                          capture_output=True, text=True)


def is_ancestor(git_dir, old, new):
    done = _git(git_dir, 'merge-base', '--is-ancestor', old, new)
    if done.returncode not in (0, 1):
        raise common.Fatal('merge-base: ' + done.stderr.strip()[-200:])
    return done.returncode == 0


def tree_size(top):
    """Bytes of the files under ``top`` (the push's quarantine is in objects/ too)."""
    total = 0
    for root, _dirs, files in os.walk(top):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def reachable_size(git_dir, tips):
    done = _git(git_dir, 'rev-list', '--objects', '--disk-usage', '--stdin',
                stdin=''.join(t + '\n' for t in sorted(set(tips))))
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        raise common.Fatal('rev-list: ' + done.stderr.strip()[-200:])
    return int(done.stdout)


def sizes(git_dir, updates):
    """What the objects reachable from the refs take, before and after the push."""
    listed = _git(git_dir, 'for-each-ref', '--format=%(refname) %(objectname)')
    refs = dict(line.split(' ', 1) for line in listed.stdout.splitlines())
    before = reachable_size(git_dir, refs.values()) if refs else 0
    for _old, new, ref in updates:
        refs.pop(ref, None)
        if not policy.is_zero(new):
            refs[ref] = new
    return before, reachable_size(git_dir, refs.values()) if refs else 0


def check(home, env, updates):
    """The refusals of this push (none: it is taken)."""
    repo, user = env.get('GL_REPO', ''), env.get('GL_USER', '')
    if names.repo_name_error(repo):
        return []  # gitolite-admin, or not a repo of ours
    git_dir = env.get('GIT_DIR') or '.'
    rules = read_json(os.path.join(home.admin_base, policy.branches_file(repo))) or {}
    refusals = [why for why in (
        policy.decide(rules.get('rules') or [], set(rules.get('rewinders') or []), user,
                      ref, old, new, lambda a, b: is_ancestor(git_dir, a, b))
        for old, new, ref in updates) if why]
    limit = (read_json(os.path.join(home.admin_base, policy.QUOTA_FILE)) or {}).get(
        'repo_size_bytes', -1)
    if refusals or not isinstance(limit, int) or limit < 0:
        return refusals
    # the cheap upper bound first
    if tree_size(os.path.join(git_dir, 'objects')) <= limit:
        return []
    why = policy.size_refusal(*sizes(git_dir, updates)[::-1], limit)
    return [why] if why else []


def _guard(argv, home=None, stdin=None, err=None):
    home = home or common.Home()
    updates = [tuple(line.split()) for line in stdin or sys.stdin if len(line.split()) == 3]
    refusals = check(home, home.env, updates)
    for why in refusals:
        (err or sys.stderr).write('solum-git: refused: %s\n' % why)
    return 1 if refusals else 0


def main(argv):
    return common.run('solum-pre-receive', _guard, argv)
