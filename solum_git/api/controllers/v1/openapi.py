"""GET /v1/openapi.json: the API's OpenAPI description (no identity needed)."""
import pecan
from pecan import rest

from solum_git.api import openapi


class OpenApiController(rest.RestController):
    @pecan.expose(content_type='application/json')
    def get(self):
        response = pecan.response
        response.body = openapi.encoded(openapi.settings_from(pecan.request.conf))
        response.content_type = 'application/json'
        return response
