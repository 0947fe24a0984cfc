"""Asymmetric signatures for Sign and Verify (kms-spec.md 4.2, 4.3, 17.3).

Keys come loaded from :mod:`strongroom.crypto.asymmetric`; which algorithms a key spec has is
:mod:`strongroom.crypto.keyspecs`' table. What each algorithm does with the request's message:

* RSASSA-PSS (MGF1 with the signing hash, a salt as long as the digest), RSASSA-PKCS1-v1_5
  (the standard DigestInfo) and ECDSA (DER signatures): ``RAW`` hashes the message, ``DIGEST``
  is the hash itself, so RAW ``m`` and DIGEST ``H(m)`` give interchangeable signatures.
* ``ED25519_SHA_512``: pure Ed25519 (RFC 8032) over a ``RAW`` message; ``ED25519_PH_SHA_512``
  (Ed25519ph over a ``DIGEST``) is in the table but not served (see
  ``keyspecs.UNSUPPORTED_ALGORITHMS``).
* ``ML_DSA_SHAKE_256``: FIPS 204 pure ML-DSA with an empty context over a ``RAW`` message, or
  an ``EXTERNAL_MU`` message that is the 64-byte message representative mu itself.

A signature that does not verify raises :class:`KMSInvalidSignatureException` with no message,
never a ``False``. The request-level rules (which message types, which lengths) are
:func:`message_types` and :func:`message_length`; the operations check them before calling
:func:`sign` or :func:`verify`, which refuse a request that breaks them with a ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from strongroom.crypto import keyspecs
from strongroom.crypto.asymmetric import MLDSAPrivateKey, PrivateKey, spec_of
from strongroom.errors import KMSInvalidSignatureException

__all__ = [
    "MU_SIZE",
    "message_length",
    "message_types",
    "sign",
    "verify",
]

MU_SIZE = 64  # FIPS 204's message representative mu, what EXTERNAL_MU carries

_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_RAW_OR_DIGEST = ("RAW", "DIGEST")
# The message types each signing algorithm accepts (kms-spec.md 4.2).
_MESSAGE_TYPES: Mapping[str, tuple[str, ...]] = {
    "RSASSA_PSS_SHA_256": _RAW_OR_DIGEST,
    "RSASSA_PSS_SHA_384": _RAW_OR_DIGEST,
    "RSASSA_PSS_SHA_512": _RAW_OR_DIGEST,
    "RSASSA_PKCS1_V1_5_SHA_256": _RAW_OR_DIGEST,
    "RSASSA_PKCS1_V1_5_SHA_384": _RAW_OR_DIGEST,
    "RSASSA_PKCS1_V1_5_SHA_512": _RAW_OR_DIGEST,
    "ECDSA_SHA_256": _RAW_OR_DIGEST,
    "ECDSA_SHA_384": _RAW_OR_DIGEST,
    "ECDSA_SHA_512": _RAW_OR_DIGEST,
    "ED25519_SHA_512": ("RAW",),
    "ED25519_PH_SHA_512": ("DIGEST",),
    "ML_DSA_SHAKE_256": ("RAW", "EXTERNAL_MU"),
}


def message_types(algorithm: str) -> tuple[str, ...]:
    """The ``MessageType`` values ``algorithm`` accepts (empty for an unknown algorithm)."""
    return _MESSAGE_TYPES.get(algorithm, ())


def message_length(algorithm: str, message_type: str) -> int | None:
    """The exact byte length a message of ``message_type`` must have for ``algorithm``: the
    hash length for a ``DIGEST`` (32, 48 or 64), 64 for an ``EXTERNAL_MU``, None for ``RAW``
    (any length the API allows)."""
    if message_type == "EXTERNAL_MU":
        return MU_SIZE
    if message_type == "DIGEST":
        return _hash(algorithm).digest_size
    return None


def _hash(algorithm: str) -> hashes.HashAlgorithm:
    return _HASHES[algorithm[-3:]]()


def _checked(key: PrivateKey, algorithm: str, message: bytes, message_type: str) -> None:
    spec = spec_of(key)
    if algorithm not in keyspecs.algorithms(spec, "SIGN_VERIFY"):
        raise ValueError(f"{algorithm} is not an algorithm of {spec}")
    if algorithm in keyspecs.UNSUPPORTED_ALGORITHMS:
        raise ValueError(f"{algorithm} is not supported")
    if message_type not in message_types(algorithm):
        raise ValueError(f"{message_type} is not a message type of {algorithm}")
    wanted = message_length(algorithm, message_type)
    if wanted is not None and len(message) != wanted:
        raise ValueError(f"a {message_type} message for {algorithm} has {wanted} bytes")


def _prehashed(algorithm: str, message: bytes, message_type: str) -> tuple[bytes, utils.Prehashed]:
    chosen = _hash(algorithm)
    if message_type == "DIGEST":
        return message, utils.Prehashed(chosen)
    hasher = hashes.Hash(chosen)
    hasher.update(message)
    return hasher.finalize(), utils.Prehashed(chosen)


def _rsa_padding(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm.startswith("RSASSA_PSS_"):
        chosen = _hash(algorithm)
        return padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
    return padding.PKCS1v15()


def sign(key: PrivateKey, algorithm: str, message: bytes, message_type: str) -> bytes:
    """``algorithm``'s signature of ``message`` (``RAW`` bytes, a ``DIGEST`` or an
    ``EXTERNAL_MU``) with ``key``; a ``ValueError`` when the request breaks the rules above."""
    _checked(key, algorithm, message, message_type)
    if isinstance(key, rsa.RSAPrivateKey):
        digest, prehashed = _prehashed(algorithm, message, message_type)
        return key.sign(digest, _rsa_padding(algorithm), prehashed)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        digest, prehashed = _prehashed(algorithm, message, message_type)
        return key.sign(digest, ec.ECDSA(prehashed))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    if isinstance(key, MLDSAPrivateKey):
        if message_type == "EXTERNAL_MU":
            return key.sign_mu(message)
        return key.sign(message)
    raise TypeError("not a signing key")  # pragma: no cover - _checked refused it


def verify(
    key: PrivateKey,
    algorithm: str,
    message: bytes,
    message_type: str,
    *,
    signature: bytes,
) -> None:
    """Return if ``signature`` is ``algorithm``'s signature of ``message`` by ``key``'s public
    key; raise :class:`KMSInvalidSignatureException` (no message) otherwise, whatever is wrong
    with the signature: its length, its encoding, its values or the message."""
    _checked(key, algorithm, message, message_type)
    try:
        _verify(key, algorithm, message, message_type, signature)
    except (InvalidSignature, ValueError):  # ValueError: a signature cryptography cannot parse
        raise KMSInvalidSignatureException() from None


def _verify(
    key: PrivateKey, algorithm: str, message: bytes, message_type: str, signature: bytes
) -> None:
    if isinstance(key, rsa.RSAPrivateKey):
        digest, prehashed = _prehashed(algorithm, message, message_type)
        key.public_key().verify(signature, digest, _rsa_padding(algorithm), prehashed)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        digest, prehashed = _prehashed(algorithm, message, message_type)
        key.public_key().verify(signature, digest, ec.ECDSA(prehashed))
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        key.public_key().verify(signature, message)
    elif isinstance(key, MLDSAPrivateKey) and message_type == "EXTERNAL_MU":
        key.public_key().verify_mu(signature, message)
    elif isinstance(key, MLDSAPrivateKey):
        key.public_key().verify(signature, message)
    else:  # pragma: no cover - _checked refused it
        raise TypeError("not a signing key")
