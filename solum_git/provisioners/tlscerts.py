"""The TLS certificate of a remote git server's HTTPS front, made by solum-git.

Each stack has a CA of its own (its certificate is in the stack view as
``http_ca_cert``, its key only in solum-git's database) that signs one server
certificate for the server's address. The server gets the certificate and its
key through gitolite-admin (``http/tls.crt``, ``http/tls.key``), as it gets its
tokens; a new address means a new certificate at the next pass.
"""
import datetime
import ipaddress
from typing import cast, Optional

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import NameOID

CA_DAYS = 3650
SERVER_DAYS = 825
RENEW_DAYS = 30


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def make_ca(stack_uuid: str) -> tuple[str, str]:
    """(CA certificate PEM, CA key PEM) for one stack."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         'solum-git stack %s CA' % stack_uuid)])
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                         False, False), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key)


def _san(host):
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_server(ca_cert_pem: str, ca_key_pem: str, host: str) -> tuple[str, str]:
    """(server certificate PEM, its key PEM) for ``host``, signed by the stack's CA."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    # the stack's CA key, an EC key (make_ca's)
    ca_key = cast(ec.EllipticCurvePrivateKey,
                  serialization.load_pem_private_key(ca_key_pem.encode(), password=None))
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName([_san(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key)


def needs_new(cert_pem: Optional[str], host: str, ca_cert_pem: str) -> bool:
    """True if the server certificate is missing, for another address, another CA,
    or close to its end."""
    if not cert_pem:
        return True
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        ca = x509.load_pem_x509_certificate(ca_cert_pem.encode())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return True
    if cert.issuer != ca.subject or _san(host) not in list(names):
        return True
    return cert.not_valid_after_utc - _now() < datetime.timedelta(days=RENEW_DAYS)
