"""HTTP to tenant-chosen URLs that connects to public addresses only.

``addresses.check_url`` judges a URL before a request; the HTTP client then
resolves the name again when it connects, and a name whose DNS answer changes
in between (DNS rebinding, a TTL of 0) would reach the service's own host or
network after passing the check. Here the check is made on the addresses the
connection uses, at each connect (the first one, and every reconnect of a
kept-alive pool): a non-public one fails the request. The TLS name (SNI and
certificate check) stays the URL's host name.
"""
import ipaddress
import socket

import requests
from requests import adapters
from urllib3 import connection
from urllib3 import connectionpool
from urllib3 import exceptions
from urllib3.util import connection as conn_util

from solum_git.common import addresses


class _PublicConnectMixin:
    """``_new_conn`` of urllib3's connections, judged address by address."""

    def _new_conn(self):
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            raise exceptions.NewConnectionError(
                self, 'cannot resolve %s: %s' % (self.host, e)) from e
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split('%')[0])
            why = addresses.kind(address)
            if why:
                raise exceptions.NewConnectionError(
                    self, '%s: %s resolves to an address that is %s at connect time'
                    % (addresses.PUBLIC_RULE, self.host, why.split(',')[0]))
        last = None
        for info in infos:
            try:
                # a numeric address: create_connection resolves nothing more
                return conn_util.create_connection(
                    (info[4][0], self.port), self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options)
            except OSError as e:
                last = e
        raise exceptions.NewConnectionError(
            self, 'Failed to establish a new connection: %s' % last)


class _HTTPConnection(_PublicConnectMixin, connection.HTTPConnection):
    pass


class _HTTPSConnection(_PublicConnectMixin, connection.HTTPSConnection):
    pass


class _HTTPPool(connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _PublicAdapter(adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {'http': _HTTPPool, 'https': _HTTPSPool}


def session(allow_private: bool) -> requests.Session:
    """A session for requests to a tenant's URL: public addresses only unless
    ``allow_private``; environment proxies are not used (a proxy would be the
    address judged, not the target)."""
    http = requests.Session()
    http.trust_env = False
    if not allow_private:
        for scheme in ('http://', 'https://'):
            http.mount(scheme, _PublicAdapter())
    return http
