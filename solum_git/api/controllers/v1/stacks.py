import datetime

import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types
from solum_git.common import exception


def _split(body, current=None):
    """The writable fields of a stack body; 400 for a read-only one that differs.

    ``current``: the stack as GET renders it (PUT); on POST the values a new
    stack of this caller will have are the only ones a client may repeat.
    """
    fields = body.given() if body is not None else {}
    writable = {k: v for k, v in fields.items() if k in types.STACK_WRITABLE}
    for name, value in fields.items():
        if name in types.STACK_WRITABLE or name in types.STACK_REPORTS or value is None:
            continue
        have = getattr(current, name) if current is not None else _NEW.get(name, _none)()
        if _same(value, have):
            continue
        raise exception.InvalidInput(name, 'is set by solum-git, not by a client: send '
                                     'it unchanged or leave it out')
    return writable


def _none():
    return object()  # equal to nothing: a new stack has no such value yet


_NEW = {'type': lambda: 'infrastructure_stack', 'kind': lambda: 'git',
        'project_id': lambda: base.ctx().project_id,
        'user_id': lambda: base.ctx().user_id,
        'provisioner': lambda: base.services().stacks.provisioner.name}


def _same(given, have):
    if isinstance(given, datetime.datetime) and isinstance(have, datetime.datetime):
        return _utc(given) == _utc(have)
    return given == have


def _utc(moment):
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


def render(view):
    return types.Stack.from_view(
        view, type='infrastructure_stack',
        uri=base.url('v1/infrastructure/stacks', view['uuid']),
        repos_uri=base.url('v1/infrastructure/repos'))


class StackActionsController(rest.RestController):
    @wsme_pecan.wsexpose(None, types.text, body=types.Action, status_code=202)
    def post(self, stack_uuid, body):
        action = base.require_body(body).action
        if action == 'resync':
            base.services().stacks.resync(base.ctx(), stack_uuid)
        elif action == 'restore':
            base.services().stacks.restore(base.ctx(), stack_uuid)
        else:
            raise exception.InvalidInput('action', 'must be one of: resync, restore')


class StacksController(rest.RestController):
    actions = StackActionsController()

    @wsme_pecan.wsexpose([types.Stack], int, types.text, types.text, types.text)
    def get_all(self, limit=None, marker=None, sort_key=None, sort_dir=None):
        views = base.services().stacks.list(base.ctx(), limit, marker, sort_key,
                                            sort_dir)
        base.set_next_link(views, limit, 'v1/infrastructure/stacks')
        return [render(v) for v in views]

    @wsme_pecan.wsexpose(types.Stack, types.text)
    def get_one(self, uuid):
        return render(base.services().stacks.get(base.ctx(), uuid))

    @wsme_pecan.wsexpose(types.Stack, body=types.StackInput, status_code=201)
    def post(self, body=None):
        view = base.services().stacks.create(base.ctx(), **_split(body))
        pecan.response.location = base.url('v1/infrastructure/stacks', view['uuid'])
        return render(view)

    @wsme_pecan.wsexpose(types.Stack, types.text, body=types.StackInput)
    def put(self, uuid, body):
        base.require_body(body)
        current = render(base.services().stacks.get(base.ctx(), uuid))
        return render(base.services().stacks.update(base.ctx(), uuid,
                                                    **_split(body, current)))

    @wsme_pecan.wsexpose(None, types.text, status_code=204)
    def delete(self, uuid):
        base.services().stacks.delete(base.ctx(), uuid)
