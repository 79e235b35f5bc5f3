"""The app the local runner deploys in the tests and benches: an HTTP server
on ``$PORT`` (set by the runner) that answers what its version.txt says."""
import requests

_CLASS = '''class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
'''
_REPLY = '''        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
'''
_QUIET = '''    def log_message(self, *args):
        pass
'''
_SERVE = "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n"


def source(get, imports='http.server, os', logged=False):
    """An app whose ``do_GET`` runs ``get`` (its lines, indented 8 spaces),
    which sets ``body`` (bytes) to answer with 200. ``logged``: each request
    is a line on stderr (http.server's own), for a test of the app's log."""
    quiet = '' if logged else _QUIET
    return 'import %s\n%s%s%s%s%s' % (imports, _CLASS, get, _REPLY, quiet, _SERVE)


_VERSION = "        body = open('version.txt', 'rb').read()\n"
# answers version.txt, as it is
VERSION = source(_VERSION)
LOGGED_VERSION = source(_VERSION, logged=True)


def answer(url, path='', timeout=2):
    """What the app at ``url`` answers, None while nothing listens there."""
    try:
        return requests.get(url + path, timeout=timeout).text
    except requests.ConnectionError:
        return None
