"""WSME types: the JSON shapes of the API (Solum's field names where Solum has them)."""
import datetime
import functools
import json

import wsme
from wsme.rest import json as wsme_json
from wsme import types as wtypes

text = wtypes.text


class JsonType(wtypes.UserType):
    """Any JSON value; the service layer checks its shape."""
    basetype = wtypes.text
    name = 'json'

    def validate(self, value):
        json.dumps(value)
        return value

    def frombasetype(self, value):
        return self.validate(value)


json_type = JsonType()


class Base(wtypes.Base):
    @classmethod
    def from_view(cls, view, **extra):
        """Fill from a service view: trusted values, so no per-value validation.

        WSME's validating setattr was a third of a list request's CPU
        (bench/list_latency.py); None is kept (it renders as null).
        """
        obj = cls()
        holder = _new_holder(obj)
        for attr in wtypes.list_attributes(cls):
            name = attr.name
            if name in extra:
                setattr(holder, attr.key, extra[name])
            elif name in view:
                setattr(holder, attr.key, view[name])
        return obj

    def given(self):
        """The fields the client sent (unset ones left out)."""
        return {a.name: getattr(self, a.name) for a in wtypes.list_attributes(type(self))
                if getattr(self, a.name) is not wsme.Unset}


# -- WSME's private storage, fenced ------------------------------------------------
# A WSME object keeps its values in ``obj._wsme_dataholder``, an instance of
# ``cls._wsme_DataHolderClass`` (wsme/types.py; no public API skips validation).
# from_view and the encoders below use it directly; tests/unit/test_api_types.py
# fails if WSME stores values elsewhere (values read back through WSME's own
# attributes, output equal to WSME's own encoder).

def _new_holder(obj):
    holder = obj._wsme_dataholder = type(obj)._wsme_DataHolderClass()
    return holder


def _holder(obj):
    return obj._wsme_dataholder


class Infrastructure(Base):
    uri = text
    name = text
    type = text
    description = text
    stacks_uri = text
    repos_uri = text
    keys_uri = text
    runs_uri = text


class Stack(Base):
    uuid = text
    uri = text
    name = text
    type = text
    description = text
    tags = [text]
    project_id = text
    user_id = text
    image_id = text
    heat_stack_id = text
    kind = text
    provisioner = text
    status = text
    status_reason = text
    ssh_host = text
    ssh_port = int
    ssh_user = text
    ssh_host_keys = [text]
    http_url = text
    http_ca_cert = text
    repos_uri = text
    created_at = datetime.datetime
    updated_at = datetime.datetime


class StackInput(Stack):
    """Every field of a Stack (Solum's InfrastructureStack; a GET body can be
    sent back): ``STACK_WRITABLE`` ones change it, ``STACK_REPORTS`` are taken
    as sent, the others must be sent unchanged (or left out)."""


STACK_WRITABLE = ('name', 'description', 'tags', 'image_id')
# what solum-git reports as it goes: never compared (they change between GET and PUT)
STACK_REPORTS = ('status', 'status_reason', 'updated_at')


class Action(Base):
    action = wsme.wsattr(text, mandatory=True)


class Repo(Base):
    uuid = text
    uri = text
    name = text
    description = text
    git_url = text
    http_url = text
    stack_uri = text
    status = text
    status_reason = text
    default_branch = text
    project_id = text
    user_id = text
    members_uri = text
    triggers_uri = text
    pushes_uri = text
    deploy_tokens_uri = text
    deploy_keys_uri = text
    backups_uri = text
    backed_up_at = datetime.datetime
    backup_lag_seconds = int
    restore_from = text
    size_bytes = int
    protected_branches_uri = text
    created_at = datetime.datetime
    updated_at = datetime.datetime


class RepoInput(Base):
    name = text
    description = text
    default_branch = text
    restore_from = text


class Backup(Base):
    uuid = text
    repo_uuid = text
    created_at = datetime.datetime
    kind = text
    chain = text
    seq = int
    refs = json_type
    head = text
    size_bytes = int
    verified = bool
    broken_reason = text


class Event(Base):
    uuid = text
    at = datetime.datetime
    project_id = text
    user_id = text
    action = text
    outcome = text
    resource_type = text
    resource_uuid = text
    detail = json_type


class Key(Base):
    uuid = text
    uri = text
    name = text
    type = text
    fingerprint = text
    public_key = text
    user_id = text
    project_id = text
    created_at = datetime.datetime


class KeyInput(Base):
    name = text
    public_key = text


class DeployToken(Base):
    uuid = text
    uri = text
    repo_uuid = text
    name = text
    permission = text
    username = text
    token = text
    clone_url = text
    expires_at = datetime.datetime
    user_id = text
    created_at = datetime.datetime


class DeployTokenInput(Base):
    name = text
    permission = text
    expires_at = datetime.datetime


class Token(Base):
    uuid = text
    uri = text
    name = text
    username = text
    token = text
    expires_at = datetime.datetime
    user_id = text
    project_id = text
    created_at = datetime.datetime


class TokenInput(Base):
    name = text
    expires_at = datetime.datetime


class DeployKey(Base):
    uuid = text
    uri = text
    repo_uuid = text
    name = text
    type = text
    fingerprint = text
    public_key = text
    permission = text
    user_id = text
    created_at = datetime.datetime


class DeployKeyInput(Base):
    name = text
    public_key = text
    permission = text


class Member(Base):
    uri = text
    repo_uuid = text
    user_id = text
    permission = text
    created_at = datetime.datetime
    updated_at = datetime.datetime


class MemberInput(Base):
    permission = text


class ProtectedBranch(Base):
    uri = text
    repo_uuid = text
    pattern = text
    push = text
    allow_force_push = bool
    allow_delete = bool
    created_at = datetime.datetime
    updated_at = datetime.datetime


class ProtectedBranchInput(Base):
    # JSON as sent: the service names the field of a value that is not a boolean
    push = text
    allow_force_push = json_type
    allow_delete = json_type


class Quota(Base):
    uri = text
    project_id = text
    repos = int
    keys_per_user = int
    triggers_per_repo = int
    repo_size_mb = int
    # {repos, largest_repo_bytes}: what the project uses now
    usage = json_type


class QuotaInput(Base):
    # JSON as sent: null puts a quota back to [quota]'s default
    repos = json_type
    keys_per_user = json_type
    triggers_per_repo = json_type
    repo_size_mb = json_type


class Trigger(Base):
    uuid = text
    uri = text
    repo_uuid = text
    type = text
    branches = text
    config = json_type
    user_id = text
    created_at = datetime.datetime


class TriggerInput(Base):
    type = text
    branches = text
    config = json_type


class Release(Base):
    release = int
    run_uuid = text
    run_uri = text
    trigger_uuid = text
    commit = text
    ref = text
    config_version = int
    rollback_of = text
    app_url = text
    serving = bool
    deployed_at = datetime.datetime


class PushRef(Base):
    ref = text
    old = text
    new = text


class Run(Base):
    uuid = text
    uri = text
    log_uri = text
    push_uri = text
    repo_uuid = text
    trigger_uuid = text
    type = text
    ref = text
    commit = text
    status = text
    status_reason = text
    app_url = text
    attempts = int
    release = int
    rollback_of = text
    deliveries = json_type
    created_at = datetime.datetime
    updated_at = datetime.datetime
    started_at = datetime.datetime
    finished_at = datetime.datetime


class Push(Base):
    uuid = text
    uri = text
    repo_uuid = text
    repo_uri = text
    push_id = text
    pusher = text
    refs = [PushRef]
    pushed_at = datetime.datetime
    created_at = datetime.datetime
    runs = [Run]


# -- encoding -------------------------------------------------------------------
# WSME encodes a complex type attribute by attribute through generic dispatch,
# ~40% of a 100-item list's CPU (bench/list_latency.py). Our types hold only
# text, ints, datetimes, JSON and lists of our own types, so each class gets a
# precomputed encoder; anything else still goes through WSME's tojson.
_PLAIN = (text, int, json_type)


def _encoder_for(attr):
    if attr.datatype in _PLAIN or attr.datatype == [text]:
        return None
    if attr.datatype is datetime.datetime:
        return datetime.datetime.isoformat
    return functools.partial(wsme_json.tojson, attr.datatype)


def _register_encoder(cls):
    fields = [(a.name, a.key, _encoder_for(a)) for a in wtypes.list_attributes(cls)]

    def encode(datatype, value):
        if value is None:
            return None
        holder = _holder(value)
        out = {}
        for name, key, encoder in fields:
            item = getattr(holder, key, wsme.Unset)
            if item is wsme.Unset:
                continue
            out[name] = item if encoder is None or item is None else encoder(item)
        return out

    wsme_json.tojson.when_object(cls)(encode)


def _all_types(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_types(sub)


for _cls in _all_types(Base):
    _register_encoder(_cls)
