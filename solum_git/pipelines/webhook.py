"""The webhook pipeline: a GitHub-shaped ``push`` event, signed, with retries.

One ``execute`` is one delivery attempt; the engine retries RETRY results with
capped exponential backoff and keeps each attempt in the run's delivery log.
``X-GitHub-Delivery`` is the run's uuid, the same on every attempt and on a
redelivery, so a receiver can drop duplicates.
"""
import datetime
import hashlib
import hmac
import json
import os
import threading
import time
from typing import Any, List, Tuple

from oslo_config import cfg
import requests

from solum_git.common import addresses
from solum_git.common import public_http
from solum_git.common import states
from solum_git.pipelines import base
from solum_git.pipelines import process
from solum_git.pipelines import source as source_mod

RunStatus = states.RunStatus

MAX_COMMITS = 20
# per commit and kind (added, removed, modified): a huge commit stays a small body
MAX_FILES = 300
USER_AGENT = 'solum-git-Hookshot/1'
_FIELDS = ('%H', '%T', '%an', '%ae', '%cn', '%ce', '%cI', '%B')


def signature(secret: str, body: bytes) -> str:
    return 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _parse_log(text):
    commits = []
    for record in text.split('\x1e'):
        record = record.strip('\n')
        if not record:
            continue
        head, _, files = record.partition('\x1d')
        fields = head.split('\x1f')
        if len(fields) != len(_FIELDS):
            continue
        sha, tree, an, ae, cn, ce, date, message = fields
        changed = {'added': [], 'removed': [], 'modified': []}
        for line in files.strip('\n').splitlines():
            status, _, path = line.partition('\t')
            key = {'A': 'added', 'D': 'removed'}.get(status[:1], 'modified')
            if len(changed[key]) < MAX_FILES:
                changed[key].append(path.split('\t')[-1])
        commits.append(dict({
            'id': sha, 'tree_id': tree, 'distinct': True, 'message': message.strip(),
            'timestamp': date, 'author': {'name': an, 'email': ae},
            'committer': {'name': cn, 'email': ce}}, **changed))
    return commits


class WebhookPipeline(base.Pipeline):
    name = 'webhook'

    def __init__(self, conf: cfg.ConfigOpts):
        super().__init__(conf)
        self.mirrors = os.path.join(conf.state_path, 'mirrors')
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _mirror_lock(self, repo_uuid):
        with self._lock:
            return self._locks.setdefault(repo_uuid, threading.Lock())

    def commits(self, spec: base.RunSpec) -> Tuple[List[dict[str, Any]], bool]:
        """The pushed commits (oldest first, at most 20) and whether it was forced."""
        if spec.source is None:
            return [], False
        git_dir = os.path.join(self.mirrors, spec.repo['uuid'] + '.git')
        env = spec.source.git_env()
        null = _NullLog()
        with self._mirror_lock(spec.repo['uuid']):
            if not os.path.isdir(git_dir):
                process.run(['git', 'init', '-q', '--bare', git_dir], None, env, null, 60,
                            spec.stopping)
            spec.source.fetch(git_dir, spec.ref, spec.commit, null, 120, spec.stopping)
        created = set(spec.before) == {'0'}
        revs = [spec.commit] if created else ['%s..%s' % (spec.before, spec.commit)]
        out = _Capture()
        fmt = '\x1e' + '\x1f'.join(_FIELDS) + '\x1d'
        process.run(['git', '-C', git_dir, 'log', '--reverse', '--name-status',
                     '-n', str(MAX_COMMITS), '--format=' + fmt] + revs, None, env, out,
                    60, spec.stopping)
        forced = False
        if not created:
            forced = process.run(['git', '-C', git_dir, 'merge-base', '--is-ancestor',
                                  spec.before, spec.commit], None, env, null, 60,
                                 spec.stopping) != 0
        return _parse_log(out.text), forced

    def payload(self, spec: base.RunSpec, commits: List[dict[str, Any]],
                forced: bool) -> dict[str, Any]:
        repo = spec.repo
        full_name = '%s/%s' % (repo['project_id'], repo['name'])
        api = (spec.api_url or '').rstrip('/')
        push_url = '%s/v1/infrastructure/repos/%s/pushes/%s' % (
            api, repo['uuid'], spec.push['uuid'])
        return {
            'ref': spec.ref, 'before': spec.before, 'after': spec.commit,
            'created': set(spec.before) == {'0'}, 'deleted': False, 'forced': forced,
            'base_ref': None, 'compare': push_url, 'commits': commits,
            'head_commit': commits[-1] if commits else None,
            'repository': {
                'id': repo['uuid'], 'name': repo['name'], 'full_name': full_name,
                'private': True, 'owner': {'name': repo['project_id'],
                                           'login': repo['project_id']},
                'default_branch': repo['default_branch'],
                'master_branch': repo['default_branch'],
                'url': '%s/v1/infrastructure/repos/%s' % (api, repo['uuid']),
                'ssh_url': repo['git_url'], 'clone_url': repo['git_url'],
                'git_url': repo['git_url']},
            'pusher': {'name': spec.push['pusher'], 'email': None},
            'sender': {'login': spec.push['pusher']},
            'solum_git': {'push_uuid': spec.push['uuid'], 'push_id': spec.push['push_id'],
                          'run_uuid': spec.uuid, 'trigger_uuid': spec.trigger['uuid']},
        }

    def execute(self, spec: base.RunSpec) -> base.Result:
        url = str(spec.config.get('url') or '')  # required at creation; refused if lost
        opts = self.conf.pipelines
        delivery: dict[str, Any] = {
            'attempt': spec.attempt, 'delivery_id': spec.uuid, 'url': url,
            'at': datetime.datetime.now(datetime.timezone.utc).isoformat(),
            'status_code': None, 'error': None}
        try:
            # checked at creation too; a name may resolve elsewhere by now
            addresses.check_url(url, opts.webhook_allow_private)
        except addresses.Refused as e:
            delivery['error'] = 'config.url: %s' % e
            return base.Result(RunStatus.FAILED, delivery['error'], delivery=delivery)
        try:
            commits, forced = self.commits(spec)
        except (source_mod.FetchError, process.Stopped, OSError) as e:
            spec.log.note('commits not listed: %s' % e)
            commits, forced = [], False
        body = json.dumps(self.payload(spec, commits, forced), default=str).encode()
        headers = {'Content-Type': 'application/json', 'User-Agent': USER_AGENT,
                   'X-GitHub-Event': 'push', 'X-GitHub-Delivery': spec.uuid,
                   'X-GitHub-Hook-ID': spec.trigger['uuid'],
                   'X-Hub-Signature-256': signature(spec.config.get('secret', ''), body)}
        spec.log.note('delivery %d to %s' % (spec.attempt, url))
        start = time.monotonic()
        try:
            # redirects are not followed: they could lead into private networks
            # and every address connected to is judged again at connect time
            with public_http.session(opts.webhook_allow_private) as http:
                resp = http.post(url, data=body, headers=headers,
                                 timeout=opts.webhook_timeout, allow_redirects=False)
        except requests.RequestException as e:
            delivery['error'] = str(e)[:500]
            delivery['duration_ms'] = int((time.monotonic() - start) * 1000)
            spec.log.note('failed: %s' % delivery['error'])
            return base.Result(RunStatus.RETRY, 'delivery failed: %s' % type(e).__name__,
                               delivery=delivery)
        delivery['duration_ms'] = int((time.monotonic() - start) * 1000)
        delivery['status_code'] = resp.status_code
        delivery['response'] = resp.text[:500]
        spec.log.note('HTTP %d in %d ms' % (resp.status_code, delivery['duration_ms']))
        if 200 <= resp.status_code < 300:
            return base.Result(RunStatus.SUCCESS, 'delivered (HTTP %d)' % resp.status_code,
                               delivery=delivery)
        if resp.status_code in (408, 425, 429) or resp.status_code >= 500:
            return base.Result(RunStatus.RETRY, 'receiver answered HTTP %d' % resp.status_code,
                               delivery=delivery)
        return base.Result(RunStatus.FAILED, 'receiver refused the delivery (HTTP %d)'
                           % resp.status_code, delivery=delivery)


class _NullLog:
    version = 0

    def write(self, text):
        pass


class _Capture(_NullLog):
    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    @property
    def text(self):
        return ''.join(self.parts)
