from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types

PATH = 'v1/infrastructure/events'


class EventsController(rest.RestController):
    @wsme_pecan.wsexpose([types.Event], int, types.text, types.text, types.text,
                         types.text, types.text, types.text, types.text)
    def get_all(self, limit=None, marker=None, sort_key=None, sort_dir=None,
                resource_uuid=None, action=None, outcome=None, since=None):
        views = base.services().events.list(
            base.ctx(), limit, marker, sort_key, sort_dir, resource_uuid=resource_uuid,
            action=action, outcome=outcome, since=since)
        base.set_next_link(views, limit, PATH)
        return [types.Event.from_view(v) for v in views]
