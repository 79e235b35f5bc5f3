"""The health check of a new app before it takes over: GET config.health_path."""
import http.client
from typing import Optional


def probe(host: str, port: int, path: str, timeout: float) -> Optional[int]:
    """The status the app answers to ``GET path`` (redirects not followed), or None."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request('GET', path, headers={'User-Agent': 'solum-git-health-check'})
        response = connection.getresponse()
        # a check reads at most a little of the body: an endless one must not hold it
        response.read(65536)
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
