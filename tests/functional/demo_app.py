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
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()
'''


def source(get, imports='http.server, os'):
    """An app whose ``do_GET`` runs ``get`` (its lines, indented 8 spaces),
    which sets ``body`` (bytes) to answer with 200."""
    return 'import %s\n%s%s%s' % (imports, _CLASS, get, _REPLY)


# answers version.txt, as it is
VERSION = source("        body = open('version.txt', 'rb').read()\n")


def answer(url, path='', timeout=2):
    """What the app at ``url`` answers, None while nothing listens there."""
    try:
        return requests.get(url + path, timeout=timeout).text
    except requests.ConnectionError:
        return None
