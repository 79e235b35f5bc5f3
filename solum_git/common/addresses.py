"""What a "public address" is: where a tenant may make solum-git send requests.

One definition for every place that checks it (a webhook URL at trigger
creation and again at each delivery): a tenant must not make the service call
its own host, its networks or a cloud's metadata service.
"""
import ipaddress
import socket
import urllib.parse

PUBLIC_RULE = 'must point at a public address'
_IPV4_COMPATIBLE = ipaddress.ip_network('::/96')
_NAT64 = ipaddress.ip_network('64:ff9b::/96')
# not globally reachable (IANA special-purpose registries) but global to
# Python 3.11's ipaddress
_NOT_GLOBAL = tuple(ipaddress.ip_network(n) for n in (
    '192.0.0.0/24', '192.88.99.0/24', '64:ff9b:1::/48', '3fff::/20', '5f00::/16'))


class Refused(ValueError):
    """The URL is not allowed; the text says why."""


def embedded_ipv4(address):
    """The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), or None."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def kind(address):
    """Why ``address`` is not public ("loopback", "private", ...), or None if it is."""
    if address.is_unspecified:
        return 'unspecified'
    if address.is_loopback:
        return 'loopback'
    inner = embedded_ipv4(address)
    if inner is not None and kind(inner) is not None:
        return '%s, as %s' % (kind(inner), inner)
    for name, test in (('link-local', address.is_link_local),
                       ('multicast', address.is_multicast),
                       ('private', address.is_private),
                       ('site-local', address.version == 6 and address.is_site_local)):
        if test:
            return name
    if not address.is_global or address.is_reserved or any(
            address in net for net in _NOT_GLOBAL if net.version == address.version):
        return 'reserved'
    return None


def is_unspecified(host):
    """True for a listen address that means every interface (``0.0.0.0``, ``::``)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def is_public(address):
    """True for a globally routable unicast address (an ``ipaddress`` address)."""
    return kind(address) is None


def check_url(url, allow_private):
    """Refuse a URL that is not http(s) or reaches a non-public address.

    The host is resolved the way the HTTP client resolves it (getaddrinfo),
    so numeric forms such as ``2130706433`` or ``0177.0.0.1`` and names that
    resolve to a private address are refused; so is a name that does not
    resolve. Every address it resolves to must be public.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except (ValueError, TypeError, AttributeError):
        raise Refused('must be an http:// or https:// URL')
    if parts.scheme not in ('http', 'https') or not host:
        raise Refused('must be an http:// or https:// URL')
    try:
        port = parts.port
    except ValueError:
        raise Refused('must have a port number of 0-65535')
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as e:
        raise Refused('%s: cannot resolve %s (%s)' % (PUBLIC_RULE, host, e))
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split('%')[0])
        why = kind(address)
        if why:
            if not _is_literal(host):
                # a name's address is not shown: no oracle of the operator's DNS
                host, why = host + ' resolves to an address that', why.split(',')[0]
            raise Refused('%s: %s is %s ([pipelines] webhook_allow_private is off)'
                          % (PUBLIC_RULE, host, why))


def _is_literal(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {'http': 80, 'https': 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or '').lower(), port


def check_solum_url(url, conf):
    """A trigger's own Solum URL; with a Keystone session, only [solum] url's host.

    The session sends the service's token to whatever URL it is given: a
    tenant's own URL would receive it.
    """
    if conf.solum.auth_strategy == 'noauth' or url is None:
        return
    try:
        same = _origin(url) == _origin(conf.solum.url)
    except ValueError:
        same = False
    if not same:
        raise Refused('must be on the host of [solum] url (%s): the request carries '
                      "the service's Keystone token" % urllib.parse.urlsplit(
                          conf.solum.url).netloc)
