"""ML-KEM (FIPS 203) encapsulation and decapsulation for Encapsulate and Decapsulate
(kms-spec.md 4.2, 4.3).

The KMS key's private key is an ML-KEM-768 or ML-KEM-1024 decapsulation key (seed form, DER
PKCS#8 at rest). Encapsulation uses its public (encapsulation) key and yields a 32-byte shared
secret and its ciphertext, 1088 or 1568 bytes. Decapsulation of a ciphertext of the wrong length
raises :class:`InvalidCiphertextException`, as AWS does; a ciphertext of the right length always
decapsulates, to a pseudo-random secret when it was tampered with or made for another key
(implicit rejection, by design of ML-KEM).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import mlkem

from strongroom.crypto.asymmetric import MLKEMPrivateKey, PrivateKey
from strongroom.errors import InvalidCiphertextException

__all__ = [
    "CIPHERTEXT_SIZES",
    "SHARED_SECRET_SIZE",
    "ciphertext_size",
    "decapsulate",
    "encapsulate",
]

SHARED_SECRET_SIZE = 32
CIPHERTEXT_SIZES: dict[str, int] = {"ML_KEM_768": 1088, "ML_KEM_1024": 1568}


def _kem_key(private: PrivateKey) -> MLKEMPrivateKey:
    if not isinstance(private, mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey):
        raise TypeError("encapsulation needs an ML-KEM private key")
    return private


def ciphertext_size(private: PrivateKey) -> int:
    """The length of the ciphertexts of ``private``'s parameter set."""
    if isinstance(_kem_key(private), mlkem.MLKEM768PrivateKey):
        return CIPHERTEXT_SIZES["ML_KEM_768"]
    return CIPHERTEXT_SIZES["ML_KEM_1024"]


def encapsulate(private: PrivateKey) -> tuple[bytes, bytes]:
    """A fresh ``(shared secret, ciphertext)`` for the public key of ``private`` (an ML-KEM key;
    a ``TypeError`` for any other)."""
    shared_secret, ciphertext = _kem_key(private).public_key().encapsulate()
    return shared_secret, ciphertext


def decapsulate(private: PrivateKey, ciphertext: bytes) -> bytes:
    """The shared secret in ``ciphertext``; InvalidCiphertextException when its length is not
    the parameter set's."""
    kem_key = _kem_key(private)
    if len(ciphertext) != ciphertext_size(kem_key):
        raise InvalidCiphertextException()
    try:
        return kem_key.decapsulate(ciphertext)
    except ValueError:
        raise InvalidCiphertextException() from None
