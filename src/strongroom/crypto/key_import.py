"""Imported key material (kms-spec.md section 11): the RSA wrapping key pairs, the import token,
unwrapping what a client wrapped, checking the material against the key spec, and the material id.

**Wrapping.** GetParametersForImport makes a fresh RSA key pair per call. A client wraps its key
material under the public half with one of four algorithms, exactly as AWS KMS defines them:

* ``RSAES_OAEP_SHA_1`` / ``RSAES_OAEP_SHA_256``: RSA-OAEP of the material itself, with the same
  hash for OAEP and MGF1 and no label; the ciphertext is as long as the modulus.
* ``RSA_AES_KEY_WRAP_SHA_1`` / ``RSA_AES_KEY_WRAP_SHA_256``: the client makes a 256-bit AES key,
  wraps the material with AES Key Wrap with Padding (RFC 5649) under it, wraps the AES key with
  RSA-OAEP (SHA-1 / SHA-256), and sends ``RSA-OAEP(aes key) || KWP(material)``.

**The import token** is stateless: the wrapping private key, the key ARN it was issued for, the
algorithm, the wrapping key spec and the time it stops being valid, sealed by the key store
(``wrap_secret`` with purpose ``import-token``), behind a version byte. Nothing we did not seal
opens, and no field can be changed. Layout of the sealed plaintext, every field preceded by its
length as a big-endian ``u32``::

    b"strongroom/import-token/v1", key ARN, wrapping algorithm, wrapping key spec,
    valid-to (decimal epoch seconds, ASCII), wrapping private key (DER PKCS#8)

An RSA_4096 token is about 2.5 KB, well under the model's 6144-byte limit.

**Material forms** (AWS's "Requirements for imported key material"): SYMMETRIC_DEFAULT exactly 32
bytes; HMAC_224 / 256 / 384 / 512 from the digest length (28 / 32 / 48 / 64 bytes) up to 1024 bits
(128 bytes); RSA and ECC private keys as PKCS #8 (DER) of exactly the key's spec (two-prime RSA;
named curves). Asymmetric material is kept in its canonical DER PKCS#8 form, so the same private
key in another valid encoding is the same material.

**The material id** is ``HMAC-SHA256(id key, fields(label, key id, material))`` in 64 hex digits:
deterministic (re-importing the same material into the key, in any region, gives the same id),
and never a bare hash of secret material.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)

from strongroom.crypto.asymmetric import CURVES, new_private_key, private_key_der, public_key_der
from strongroom.errors import InvalidCiphertextException

__all__ = [
    "AES_KEY_SIZE",
    "HMAC_LENGTHS",
    "IMPORTABLE_SPECS",
    "TOKEN_LIFETIME_SECONDS",
    "WRAPPING_ALGORITHMS",
    "WRAPPING_KEY_SPECS",
    "EncryptedSizeError",
    "ImportParameters",
    "MaterialError",
    "check_material",
    "issue_token",
    "material_id",
    "new_wrapping_key",
    "open_token",
    "unwrap_key_material",
    "wrap_key_material",
]

TOKEN_LIFETIME_SECONDS = 24 * 3600
AES_KEY_SIZE = 32  # the RSA_AES_KEY_WRAP algorithms use a 256-bit AES key

WRAPPING_KEY_SPECS: dict[str, int] = {"RSA_2048": 256, "RSA_3072": 384, "RSA_4096": 512}
# algorithm -> (hash of OAEP and MGF1, whether the material is AES-KWP-wrapped)
_ALGORITHMS: dict[str, tuple[type[hashes.SHA1 | hashes.SHA256], bool]] = {
    "RSAES_OAEP_SHA_1": (hashes.SHA1, False),
    "RSAES_OAEP_SHA_256": (hashes.SHA256, False),
    "RSA_AES_KEY_WRAP_SHA_1": (hashes.SHA1, True),
    "RSA_AES_KEY_WRAP_SHA_256": (hashes.SHA256, True),
}
WRAPPING_ALGORITHMS: tuple[str, ...] = tuple(_ALGORITHMS)

HMAC_LENGTHS: dict[str, tuple[int, int]] = {
    "HMAC_224": (28, 128),
    "HMAC_256": (32, 128),
    "HMAC_384": (48, 128),
    "HMAC_512": (64, 128),
}
_SYMMETRIC_LENGTH = 32
_RSA_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096")
IMPORTABLE_SPECS: tuple[str, ...] = (
    "SYMMETRIC_DEFAULT",
    *HMAC_LENGTHS,
    *_RSA_SPECS,
    *CURVES,
)

_U32 = struct.Struct(">I")
_TOKEN_VERSION = b"\x01"
_TOKEN_LABEL = b"strongroom/import-token/v1"
_SEAL_PURPOSE = "import-token"
_ID_LABEL = b"strongroom/imported-material-id/v1"


class Sealer(Protocol):
    """What the token needs of a key store (:class:`strongroom.keystore.base.KeyStore`)."""

    def wrap_secret(self, secret: bytes, purpose: str) -> bytes: ...

    def unwrap_secret(self, wrapped: bytes, purpose: str) -> bytes: ...


class EncryptedSizeError(ValueError):
    """The encrypted key material cannot be what the wrapping algorithm and key produce."""


class MaterialError(ValueError):
    """Unwrapped material that is not of the form the key spec needs (the message says which
    form; it never shows the material)."""


@dataclass(frozen=True, slots=True)
class ImportParameters:
    """What an import token carries. ``private_der`` is secret: it is left out of ``repr``."""

    key_arn: str
    wrapping_algorithm: str
    wrapping_key_spec: str
    valid_to: float
    private_der: bytes = field(repr=False)


# -- wrapping keys and tokens ---------------------------------------------------------------------


def new_wrapping_key(
    wrapping_key_spec: str, generate: Callable[[str], bytes] = new_private_key
) -> tuple[bytes, bytes]:
    """A fresh RSA wrapping key pair: (private DER PKCS#8, public DER SubjectPublicKeyInfo).
    ``generate`` makes the private key (the service passes its pre-generated stock's)."""
    if wrapping_key_spec not in WRAPPING_KEY_SPECS:
        raise ValueError(f"no wrapping key of spec {wrapping_key_spec}")
    private_der = generate(wrapping_key_spec)
    return private_der, public_key_der(private_der)


def _fields(*parts: bytes) -> bytes:
    return b"".join(_U32.pack(len(part)) + part for part in parts)


def _split(data: bytes) -> list[bytes]:
    parts, offset = [], 0
    while offset < len(data):
        if offset + _U32.size > len(data):
            raise ValueError("truncated field length")
        (length,) = _U32.unpack_from(data, offset)
        offset += _U32.size
        if offset + length > len(data):
            raise ValueError("truncated field")
        parts.append(data[offset : offset + length])
        offset += length
    return parts


def issue_token(sealer: Sealer, params: ImportParameters) -> bytes:
    """The import token for ``params``: a version byte and the sealed parameters."""
    plaintext = _fields(
        _TOKEN_LABEL,
        params.key_arn.encode("utf-8"),
        params.wrapping_algorithm.encode("ascii"),
        params.wrapping_key_spec.encode("ascii"),
        repr(float(params.valid_to)).encode("ascii"),
        params.private_der,
    )
    return _TOKEN_VERSION + sealer.wrap_secret(plaintext, _SEAL_PURPOSE)


def open_token(sealer: Sealer, token: bytes) -> ImportParameters:
    """The parameters a token we issued carries; ``ValueError`` for anything else (garbage, a
    token altered in any byte, a token sealed under another root key)."""
    if token[:1] != _TOKEN_VERSION:
        raise ValueError("not an import token")
    try:
        plaintext = sealer.unwrap_secret(token[1:], _SEAL_PURPOSE)
    except Exception:  # the key store's "could not open", whatever its class
        raise ValueError("the import token does not open") from None
    parts = _split(plaintext)
    if len(parts) != 6 or parts[0] != _TOKEN_LABEL:
        raise ValueError("not an import token")
    _, arn, algorithm, spec, valid_to, private_der = parts
    return ImportParameters(
        key_arn=arn.decode("utf-8"),
        wrapping_algorithm=algorithm.decode("ascii"),
        wrapping_key_spec=spec.decode("ascii"),
        valid_to=float(valid_to.decode("ascii")),
        private_der=private_der,
    )


# -- wrapping and unwrapping material -------------------------------------------------------------


def _oaep(algorithm: str) -> tuple[padding.OAEP, bool]:
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"{algorithm} is not a wrapping algorithm")
    digest, kwp = _ALGORITHMS[algorithm]
    chosen = digest()
    return padding.OAEP(mgf=padding.MGF1(chosen), algorithm=chosen, label=None), kwp


def wrap_key_material(
    public_der: bytes, algorithm: str, material: bytes, *, aes_key: bytes | None = None
) -> bytes:
    """What a client sends as EncryptedKeyMaterial: ``material`` wrapped under the wrapping
    public key (DER SPKI) with ``algorithm``. ``aes_key`` (RSA_AES_KEY_WRAP only) defaults to a
    fresh random 256-bit key."""
    public = serialization.load_der_public_key(public_der)
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the wrapping key is not an RSA public key")
    oaep, kwp = _oaep(algorithm)
    if not kwp:
        return public.encrypt(material, oaep)
    aes_key = os.urandom(AES_KEY_SIZE) if aes_key is None else aes_key
    return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)


def unwrap_key_material(private_der: bytes, algorithm: str, encrypted: bytes) -> bytes:
    """The material a client wrapped with ``algorithm`` under the public half of the wrapping
    key ``private_der`` (ours, from a token). :class:`EncryptedSizeError` when ``encrypted``
    cannot be of that algorithm and key size; :class:`InvalidCiphertextException` (no message)
    when it does not unwrap, whatever the reason."""
    private = serialization.load_der_private_key(
        private_der, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("the wrapping key is not an RSA private key")
    size = private.key_size // 8
    oaep, kwp = _oaep(algorithm)
    if not kwp:
        if len(encrypted) != size:
            raise EncryptedSizeError("Invalid encrypted key size.")
        try:
            return private.decrypt(encrypted, oaep)
        except ValueError:
            raise InvalidCiphertextException() from None
    # RSA-OAEP(aes key) || KWP(material): KWP output is a multiple of 8 bytes, at least 16.
    if len(encrypted) < size + 16 or (len(encrypted) - size) % 8:
        raise EncryptedSizeError("Invalid encrypted key size.")
    try:
        aes_key = private.decrypt(encrypted[:size], oaep)
    except ValueError:
        raise InvalidCiphertextException() from None
    if len(aes_key) != AES_KEY_SIZE:
        raise InvalidCiphertextException()
    try:
        return aes_key_unwrap_with_padding(aes_key, encrypted[size:])
    except InvalidUnwrap:
        raise InvalidCiphertextException() from None


# -- the material ---------------------------------------------------------------------------------


def _is_pkcs8(der: bytes) -> bool:
    """True when ``der`` is shaped as a PrivateKeyInfo: SEQUENCE { INTEGER, SEQUENCE, ... }.
    (A PKCS #1 RSAPrivateKey or SEC 1 ECPrivateKey has an INTEGER or OCTET STRING second.)"""

    def header(offset: int) -> tuple[int, int, int]:
        """(tag, content offset, content length) of the element at ``offset``."""
        if offset + 2 > len(der):
            raise ValueError("truncated")
        tag, first = der[offset], der[offset + 1]
        offset += 2
        if first < 0x80:
            return tag, offset, first
        count = first & 0x7F
        if count == 0 or count > 4 or offset + count > len(der):
            raise ValueError("bad length")
        return tag, offset + count, int.from_bytes(der[offset : offset + count], "big")

    try:
        tag, content, _ = header(0)
        if tag != 0x30:
            return False
        tag, version, length = header(content)
        if tag != 0x02:
            return False
        tag, _, _ = header(version + length)
        return tag == 0x30
    except ValueError:
        return False


def _private_key_of_spec(key_spec: str, material: bytes) -> bytes:
    expected = f"The key material must be a DER-encoded PKCS #8 private key of key spec {key_spec}."
    if not _is_pkcs8(material):
        raise MaterialError(expected)
    try:
        # Not ours: RSA keys get cryptography's full consistency check here.
        key = serialization.load_der_private_key(material, password=None)
    except (ValueError, TypeError, NotImplementedError):
        raise MaterialError(expected) from None
    if key_spec in _RSA_SPECS:
        if not isinstance(key, rsa.RSAPrivateKey) or f"RSA_{key.key_size}" != key_spec:
            raise MaterialError(expected)
        return private_key_der(key)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
        key.curve, CURVES[key_spec]
    ):
        raise MaterialError(expected)
    return private_key_der(key)


def check_material(key_spec: str, material: bytes) -> bytes:
    """``material`` in the form a key of ``key_spec`` keeps (canonical DER PKCS#8 for a private
    key); :class:`MaterialError` when it is not material of that spec."""
    if key_spec == "SYMMETRIC_DEFAULT":
        if len(material) != _SYMMETRIC_LENGTH:
            raise MaterialError(
                "The key material of a SYMMETRIC_DEFAULT key must be exactly 32 bytes (256 bits)."
            )
        return material
    if key_spec in HMAC_LENGTHS:
        shortest, longest = HMAC_LENGTHS[key_spec]
        if not shortest <= len(material) <= longest:
            raise MaterialError(
                f"The key material of an {key_spec} key must be {shortest} to {longest} bytes "
                f"({shortest * 8} to {longest * 8} bits)."
            )
        return material
    if key_spec in _RSA_SPECS or key_spec in CURVES:
        return _private_key_of_spec(key_spec, material)
    raise MaterialError(f"Key material cannot be imported into a {key_spec} key.")


def material_id(id_key: bytes, key_id: str, material: bytes) -> str:
    """The deterministic id (64 lower-case hex) of ``material`` imported into key ``key_id``."""
    message = _fields(_ID_LABEL, key_id.encode("ascii"), material)
    return hmac.new(id_key, message, hashlib.sha256).hexdigest()
