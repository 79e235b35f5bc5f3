"""The caller of a service: who, for which project, with which roles."""
from oslo_context import context


class RequestContext(context.RequestContext):
    """oslo.context's context; user_id and project_id are always set."""

    user_id: str
    project_id: str
