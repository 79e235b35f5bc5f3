"""Errors the service layer raises; the API turns each into its status code."""


class SolumGitError(Exception):
    code = 500
    message = 'internal error'

    def __init__(self, message=None):
        super().__init__(message or self.message)
        self.message = message or self.message


class InvalidInput(SolumGitError):
    """400: names the field and the rule it broke."""
    code = 400

    def __init__(self, field, rule):
        self.field = field
        self.rule = rule
        super().__init__('%s: %s' % (field, rule))


class NotAuthenticated(SolumGitError):
    code = 401
    message = 'authentication required'


class Forbidden(SolumGitError):
    code = 403
    message = 'not allowed'


class Denied(Forbidden):
    """403 for an access change: the service records it (``event``) once rolled back."""

    def __init__(self, message, event):
        super().__init__(message)
        self.event = event


class NotFound(SolumGitError):
    code = 404

    def __init__(self, kind, ident):
        super().__init__('%s %s not found' % (kind, ident))


class Conflict(SolumGitError):
    code = 409


class TooManyRequests(SolumGitError):
    """429: a bounded resource (a stream) is in use by as many as it may be."""
    code = 429


class ServiceUnavailable(SolumGitError):
    code = 503
