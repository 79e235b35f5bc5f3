"""OpenSSH public keys, parsed for real: only safe types and sizes pass."""
import base64
import binascii
import hashlib
import re

from cryptography import exceptions as crypto_exc
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization

from solum_git.common import exception

FIELD = 'public_key'
MIN_RSA_BITS = 2048
ALLOWED_TYPES = ('ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
                 'ecdsa-sha2-nistp521', 'ssh-rsa')
_COMMENT = re.compile(r'^[\x20-\x7e]{0,255}$')
_MAX_LENGTH = 16384


class PublicKey:
    def __init__(self, type, blob, comment):
        self.type = type
        self.blob = blob
        self.comment = comment

    @property
    def fingerprint(self):
        """As ``ssh-keygen -lf`` prints it: SHA256:<base64 without padding>."""
        digest = hashlib.sha256(self.blob).digest()
        return 'SHA256:' + base64.b64encode(digest).decode().rstrip('=')

    @property
    def openssh(self):
        """The normalized line we store and hand to gitolite (comment kept)."""
        line = '%s %s' % (self.type, base64.b64encode(self.blob).decode())
        return line + (' ' + self.comment if self.comment else '')


def _bad(rule):
    return exception.InvalidInput(FIELD, rule)


def parse(text):
    if not isinstance(text, str):
        raise _bad('must be a string')
    if len(text) > _MAX_LENGTH:
        raise _bad('must be at most %d characters' % _MAX_LENGTH)
    if 'PRIVATE KEY' in text:
        raise _bad('is a private key; upload the public key (the .pub file)')
    line = text.strip()
    if not line:
        raise _bad('must not be empty')
    if '\n' in line or '\r' in line:
        raise _bad('must be exactly one line (one key)')
    parts = line.split(None, 2)
    if parts[0] not in ALLOWED_TYPES:
        if any(t in line for t in ALLOWED_TYPES):
            raise _bad('must not carry options before the key type')
        raise _bad('must be an OpenSSH public key of type %s' % ', '.join(ALLOWED_TYPES))
    if len(parts) < 2:
        raise _bad('has no key data after the type')
    key_type, data = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) == 3 else ''
    if not _COMMENT.fullmatch(comment):
        raise _bad('comment must be printable ASCII, at most 255 characters')
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _bad('key data is not valid base64')
    try:
        key = serialization.load_ssh_public_key(
            ('%s %s' % (key_type, data)).encode())
    except (ValueError, TypeError, crypto_exc.UnsupportedAlgorithm):
        raise _bad('key data is not a valid %s key' % key_type)
    # the type inside the blob must be the one named in front of it
    if blob[4:4 + int.from_bytes(blob[:4], 'big')].decode('ascii', 'replace') != key_type:
        raise _bad('key data does not match the type %s' % key_type)
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise _bad('RSA keys must have at least %d bits (got %d)'
                       % (MIN_RSA_BITS, key.key_size))
    elif not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)):
        raise _bad('must be an ed25519, ecdsa or RSA key')
    # normalize: the blob as cryptography re-serializes it, so trailing junk fails
    canonical = key.public_bytes(serialization.Encoding.OpenSSH,
                                 serialization.PublicFormat.OpenSSH).split()[1]
    if base64.b64decode(canonical) != blob:
        raise _bad('key data has trailing or non-canonical bytes')
    return PublicKey(key_type, blob, comment)
