"""RSAES-OAEP for RSA ``ENCRYPT_DECRYPT`` keys: Encrypt, Decrypt and ReEncrypt
(kms-spec.md 4.2, 4.3, 17.3).

PKCS#1 v2.2 OAEP with the same hash for the digest and MGF1 and an empty label, exactly as AWS
KMS: the ciphertext is the raw RSA output, as long as the modulus (256, 384 or 512 bytes), with no
header, so a client can make it offline with the public key from GetPublicKey and decrypt
Strongroom's with the private key. A plaintext holds at most ``k - 2*hLen - 2`` bytes. Any failure
to decrypt (wrong key, wrong algorithm, altered or truncated ciphertext) is the same bare
:class:`~strongroom.errors.InvalidCiphertextException`.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from strongroom.crypto.asymmetric import PrivateKey
from strongroom.errors import InvalidCiphertextException

__all__ = ["ALGORITHMS", "decrypt", "encrypt", "max_plaintext"]

# algorithm -> the hash of its digest and of MGF1
_HASHES: dict[str, type[hashes.SHA1 | hashes.SHA256]] = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
}
ALGORITHMS: tuple[str, ...] = tuple(_HASHES)
_MODULUS_BYTES = {"RSA_2048": 256, "RSA_3072": 384, "RSA_4096": 512}


def _padding(algorithm: str) -> padding.OAEP:
    if algorithm not in _HASHES:
        raise ValueError(f"{algorithm} is not an RSA encryption algorithm")
    chosen = _HASHES[algorithm]()
    return padding.OAEP(mgf=padding.MGF1(chosen), algorithm=chosen, label=None)


def max_plaintext(key_spec: str, algorithm: str) -> int:
    """The most bytes ``algorithm`` can encrypt under an RSA key of ``key_spec``:
    ``k - 2*hLen - 2`` (RFC 8017 7.1.1), e.g. 190 for RSA_2048 with RSAES_OAEP_SHA_256."""
    if key_spec not in _MODULUS_BYTES or algorithm not in _HASHES:
        raise ValueError(f"no RSA encryption with {key_spec} and {algorithm}")
    return _MODULUS_BYTES[key_spec] - 2 * _HASHES[algorithm].digest_size - 2


def _rsa(key: PrivateKey) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def encrypt(key: PrivateKey, algorithm: str, plaintext: bytes) -> bytes:
    """OAEP-encrypt ``plaintext`` under the public half of ``key``. The caller has checked the
    length against :func:`max_plaintext` (a longer one is a ``ValueError``)."""
    return _rsa(key).public_key().encrypt(plaintext, _padding(algorithm))


def decrypt(key: PrivateKey, algorithm: str, ciphertext: bytes) -> bytes:
    """The plaintext of an OAEP ``ciphertext``; :class:`InvalidCiphertextException` (no message)
    if it does not decrypt under ``key`` with ``algorithm``, whatever the reason."""
    private, chosen = _rsa(key), _padding(algorithm)
    try:
        return private.decrypt(ciphertext, chosen)
    except ValueError:
        raise InvalidCiphertextException() from None
