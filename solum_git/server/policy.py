"""Protected branches and the repo size quota: their files and their rule.

The engine renders the files into gitolite-admin with the conf (one commit:
a member's RW+ and the rules naming it arrive together); gitolite checks them
out into its admin base, where the pre-receive program (guard.py) reads them:
``solum/branches/NAME.json`` {"rules": [...], "rewinders": [GL_USER names of
RW+ members]} for a repo with rules, ``solum/quota.json`` {"repo_size_bytes"}.
"""
import json

from solum_git.server import names

TOP_DIR = 'solum'  # the engine owns it whole
BRANCHES_DIR = TOP_DIR + '/branches'
QUOTA_FILE = TOP_DIR + '/quota.json'
PUSH_CHOICES = ('RW', 'RW+')
DEFAULT_PUSH = 'RW+'
MIB = 1024 * 1024


def branches_file(repo):
    return '%s/%s.json' % (BRANCHES_DIR, repo)


def dumps(value):
    return json.dumps(value, sort_keys=True, indent=1) + '\n'


def branches_text(rules, rewinders):
    keys = ('pattern', 'push', 'allow_force_push', 'allow_delete')
    return dumps({'rules': [{k: r[k] for k in keys}
                            for r in sorted(rules, key=lambda r: r['pattern'])],
                  'rewinders': sorted(set(rewinders))})


def quota_text(size_bytes):
    return dumps({'repo_size_bytes': int(size_bytes)})


def is_zero(sha):
    return set(sha) == {'0'}


def decide(rules, rewinders, user, ref, old, new, is_ancestor):
    """Why updating ``ref`` from ``old`` to ``new`` is refused, or None.

    Every rule matching the branch applies; ``is_ancestor(old, new)`` is asked
    only for a protected update of an existing branch.
    """
    ff = None
    for rule in rules:
        if not names.branch_matches(rule['pattern'], ref):
            continue
        what = 'protected branch rule "%s": %s' % (rule['pattern'], ref)
        if is_zero(new):
            if not rule['allow_delete']:
                return what + ' may not be deleted (allow_delete is false)'
        elif rule['push'] == 'RW+' and user not in rewinders:
            return '%s: only RW+ members may push (%s is not RW+)' % (what, user)
        elif not (is_zero(old) or rule['allow_force_push']):
            ff = is_ancestor(old, new) if ff is None else ff
            if not ff:
                return what + ' may not be force-pushed (allow_force_push is false)'
    return None


def size_refusal(after, before, limit):
    """No-worsen: a push that does not grow the repo is taken even over the quota."""
    if limit < 0 or after <= limit or after <= before:
        return None
    return ('quota repo_size_mb: this push would make the repo %s (it is %s), its '
            'quota is %s; pushes that do not grow it are still taken'
            % (mib(after), mib(before), mib(limit)))


def mib(size):
    return '%.1f MiB' % (size / MIB)
