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
        holder = obj._wsme_dataholder = cls._wsme_DataHolderClass()
        for attr in cls._wsme_attributes:
            name = attr.name
            if name in extra:
                setattr(holder, attr.key, extra[name])
            elif name in view:
                setattr(holder, attr.key, view[name])
        return obj

    def given(self):
        """The fields the client sent (unset ones left out)."""
        return {a.name: getattr(self, a.name) for a in self._wsme_attributes
                if getattr(self, a.name) is not wsme.Unset}


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
    repos_uri = text
    created_at = datetime.datetime
    updated_at = datetime.datetime


class StackInput(Base):
    name = text
    description = text
    tags = [text]


class Action(Base):
    action = wsme.wsattr(text, mandatory=True)


class Repo(Base):
    uuid = text
    uri = text
    name = text
    description = text
    git_url = text
    stack_uri = text
    status = text
    status_reason = text
    default_branch = text
    project_id = text
    user_id = text
    members_uri = text
    triggers_uri = text
    pushes_uri = text
    created_at = datetime.datetime
    updated_at = datetime.datetime


class RepoInput(Base):
    name = text
    description = text
    default_branch = text


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


class Member(Base):
    uri = text
    repo_uuid = text
    user_id = text
    permission = text
    created_at = datetime.datetime
    updated_at = datetime.datetime


class MemberInput(Base):
    permission = text


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
    fields = [(a.name, a.key, _encoder_for(a)) for a in cls._wsme_attributes]

    def encode(datatype, value):
        if value is None:
            return None
        holder = value._wsme_dataholder
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
