"""Encryption operations: Encrypt, Decrypt and ReEncrypt (data keys: ``datakeys``).

A symmetric key seals Strongroom's own blob (``strongroom.crypto.ciphertext``), whose header names
the key and the material, so Decrypt needs no KeyId. An RSA ``ENCRYPT_DECRYPT`` key encrypts with
RSAES-OAEP (``strongroom.crypto.rsa_encryption``): the ciphertext is the raw RSA output, as AWS's,
so Decrypt of it needs the KeyId and the EncryptionAlgorithm, and an asymmetric key takes no
encryption context (kms-spec.md 4.2, 4.3, 17.3). Data keys come only from symmetric keys.

Policies see ``kms:EncryptionAlgorithm`` as the request's algorithm, ``SYMMETRIC_DEFAULT`` when it
is defaulted and for the data-key operations (kms-spec.md 7.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.crypto import ciphertext, keyspecs, rsa_encryption
from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord, KeySpec, KeyUsage
from strongroom.errors import (
    DryRunOperationException,
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.kms.resolve import authorized_key, request_alias, resolve_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import dry_run, require_state, require_usage

__all__ = [
    "SYMMETRIC_DEFAULT",
    "decrypt",
    "encrypt",
    "re_encrypt",
    "seal",
    "with_algorithm",
]

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
_ACTIONS = {action.value: action for action in Action}  # by name, faster than Action(name)
ASYMMETRIC_CONTEXT = (
    "EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs."
)


def _view(context: Any, algorithm: Any, tokens: Any) -> dict[str, Any]:
    """The parameters a policy (and a grant) sees for one side of an operation (ReEncrypt has
    two); the grant tokens apply to both. The algorithm is ``SYMMETRIC_DEFAULT`` when defaulted."""
    view: dict[str, Any] = {"EncryptionAlgorithm": algorithm or SYMMETRIC_DEFAULT}
    if tokens:
        view["GrantTokens"] = tokens
    if context is not None:
        view["EncryptionContext"] = context
    return view


def with_algorithm(p: dict[str, Any], algorithm: str | None) -> dict[str, Any]:
    """``p`` as a policy sees it: with the (possibly defaulted) encryption algorithm."""
    return {**p, "EncryptionAlgorithm": algorithm or SYMMETRIC_DEFAULT}


def _encryption_key(  # noqa: PLR0917 - the two sides of ReEncrypt differ in each of these
    svc: KmsService,
    caller: Caller,
    key_id: str,
    action: str,
    algorithm: str | None,
    params: dict[str, Any],
    *,
    permission: str | None = None,
    context: Mapping[str, str] | None = None,
) -> KeyRecord:
    key = authorized_key(
        svc, caller, key_id, action=permission or action, allow_alias=True, params=params
    )
    _check_usable(key, action, algorithm)
    _check_context(key, context)
    return key


def _check_usable(key: KeyRecord, action: str, algorithm: str | None) -> None:
    """The key's state, usage and spec must allow ``action`` with ``algorithm`` (absent means
    ``SYMMETRIC_DEFAULT``; spec 5.2, 4.2)."""
    require_state(key, _ACTIONS[action])
    require_usage(key, KeyUsage.ENCRYPT_DECRYPT, action)
    chosen = algorithm or SYMMETRIC_DEFAULT
    if chosen not in keyspecs.algorithms(key.key_spec.value, KeyUsage.ENCRYPT_DECRYPT.value):
        raise InvalidKeyUsageException(
            f"Algorithm {chosen} is incompatible with key spec {key.key_spec.value}."
        )


def _check_context(key: KeyRecord, context: Mapping[str, str] | None) -> None:
    """An asymmetric key takes no encryption context (its algorithms have nowhere to bind it)."""
    if context and key.key_spec is not KeySpec.SYMMETRIC_DEFAULT:
        raise ValidationException(ASYMMETRIC_CONTEXT)


def _check_size(key: KeyRecord, algorithm: str, plaintext: bytes) -> None:
    """RSAES-OAEP holds at most ``k - 2*hLen - 2`` bytes (kms-spec.md 4.3)."""
    limit = rsa_encryption.max_plaintext(key.key_spec.value, algorithm)
    if len(plaintext) > limit:
        raise ValidationException(
            f"Algorithm {algorithm} and key spec {key.key_spec.value} cannot encrypt data "
            f"larger than {limit} bytes."
        )


def seal(
    svc: KmsService, key: KeyRecord, plaintext: bytes, context: Mapping[str, str] | None
) -> bytes:
    """``plaintext`` sealed under the current material of the symmetric ``key`` with
    ``context`` (what Encrypt, GenerateDataKey and GenerateDataKeyPair return)."""
    return svc.keystore.encrypt(svc.handle(key), plaintext, context)


def _dry_run_without_ciphertext(
    svc: KmsService, caller: Caller, p: dict[str, Any], *, action: str, key_member: str
) -> None:
    """DryRun with ``IGNORE_CIPHERTEXT`` (kms-spec.md 17.5): check the key the caller names as the
    real call would, never look at the ciphertext, and fail as every DryRun does."""
    if not p.get("DryRun") or "IGNORE_CIPHERTEXT" not in (p.get("DryRunModifiers") or ()):
        return
    if key_member not in p:
        raise ValidationException(
            f"{key_member} is required when DryRunModifiers contains IGNORE_CIPHERTEXT."
        )
    if "DestinationKeyId" in p:
        source, context = p.get("SourceEncryptionAlgorithm"), p.get("SourceEncryptionContext")
        view = _view(context, source, p.get("GrantTokens"))
        _encryption_key(
            svc,
            caller,
            p[key_member],
            action,
            source,
            view,
            permission="ReEncryptFrom",
            context=context,
        )
        _destination(svc, caller, p)
    else:
        algorithm, context = p.get("EncryptionAlgorithm"), p.get("EncryptionContext")
        view = with_algorithm(p, algorithm)
        _encryption_key(svc, caller, p[key_member], action, algorithm, view, context=context)
    raise DryRunOperationException()


def _destination(svc: KmsService, caller: Caller, p: dict[str, Any]) -> KeyRecord:
    algorithm, context = (
        p.get("DestinationEncryptionAlgorithm"),
        p.get("DestinationEncryptionContext"),
    )
    view = _view(context, algorithm, p.get("GrantTokens"))
    return _encryption_key(
        svc,
        caller,
        p["DestinationKeyId"],
        "ReEncrypt",
        algorithm,
        view,
        permission="ReEncryptTo",
        context=context,
    )


def encrypt(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    algorithm = p.get("EncryptionAlgorithm") or SYMMETRIC_DEFAULT
    context, plaintext = p.get("EncryptionContext"), p["Plaintext"]
    view = with_algorithm(p, algorithm)
    key = _encryption_key(svc, caller, p["KeyId"], "Encrypt", algorithm, view, context=context)
    if key.key_spec is KeySpec.SYMMETRIC_DEFAULT:
        dry_run(p)
        blob = seal(svc, key, plaintext, context)
    else:
        _check_size(key, algorithm, plaintext)
        dry_run(p)
        blob = svc.keystore.encrypt_rsa(svc.handle(key), algorithm, plaintext)
    return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": algorithm}


def _blob(p: dict[str, Any], blob_member: str) -> bytes:
    blob = p.get(blob_member)
    if blob is None:
        member = blob_member[0].lower() + blob_member[1:]
        raise ValidationException(
            f"1 validation error detected: Value null at '{member}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return bytes(blob)


def _asymmetric_source(
    svc: KmsService, caller: Caller, p: dict[str, Any], *, key_member: str, algorithm_member: str
) -> KeyRecord | None:
    """The key a ciphertext is to be opened with when it is no symmetric blob: named by the
    caller's KeyId, with an algorithm other than ``SYMMETRIC_DEFAULT``, and not a symmetric key.
    Anything else goes the symmetric way (the blob's header names the key), as on AWS, where
    Decrypt of an RSA ciphertext without KeyId or algorithm is ``InvalidCiphertextException``."""
    if key_member not in p or p.get(algorithm_member) in (None, SYMMETRIC_DEFAULT):
        return None
    key = resolve_key(svc, caller, p[key_member], allow_alias=True)
    return None if key.key_spec is KeySpec.SYMMETRIC_DEFAULT else key


def _open_asymmetric(
    svc: KmsService,
    caller: Caller,
    p: dict[str, Any],
    key: KeyRecord,
    *,
    action: str,
    permission: str,
    names: tuple[str, str, str, str],
) -> bytes:
    """Authorize, check and decrypt a raw RSA ciphertext under ``key``. ``names`` are the blob,
    KeyId, context and algorithm members of the request."""
    blob_member, key_member, context_member, algorithm_member = names
    blob, algorithm, context = _blob(p, blob_member), p[algorithm_member], p.get(context_member)
    view = _view(context, algorithm, p.get("GrantTokens"))
    alias = request_alias(p[key_member])
    svc.access.authorize_key(caller, f"kms:{permission}", key, view, request_alias=alias)
    _check_usable(key, action, algorithm)
    _check_context(key, context)
    return svc.keystore.decrypt_rsa(svc.handle(key), algorithm, blob)


def _open(
    svc: KmsService,
    caller: Caller,
    p: dict[str, Any],
    *,
    action: str,
    permission: str,
    names: tuple[str, str, str, str],
) -> tuple[KeyRecord, bytes, str]:
    """Find the key a symmetric ciphertext names, check it against the caller's KeyId, and open
    it. ``names``: the request's members for the blob, the key, the context and the algorithm."""
    blob_member, key_member, context_member, algorithm_member = names
    blob = _blob(p, blob_member)
    header = ciphertext.peek(blob)
    named = svc.get_key(caller.account, caller.region, header.key_id) or svc.find_key(
        caller.region, header.key_id
    )
    if key_member in p:
        wanted = resolve_key(svc, caller, p[key_member], allow_alias=True)
        if named is None:
            raise InvalidCiphertextException()
        if wanted.key_id != named.key_id:
            raise IncorrectKeyException(
                "The key ID in the request does not identify a CMK that can perform this operation."
            )
    if named is None:
        raise InvalidCiphertextException()
    view = _view(p.get(context_member), p.get(algorithm_member), p.get("GrantTokens"))
    alias = request_alias(p[key_member]) if key_member in p else None
    svc.access.authorize_key(caller, f"kms:{permission}", named, view, request_alias=alias)
    _check_usable(named, action, p.get(algorithm_member))
    material_id = header.material_id.hex()
    handle = svc.find_handle(named, material_id)
    if handle is None:
        raise InvalidCiphertextException()
    plaintext = svc.keystore.decrypt(handle, blob, p.get(context_member))
    return named, plaintext, material_id


def decrypt(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("Recipient"):
        raise UnsupportedOperationException("Recipient is not yet supported by Strongroom.")
    _dry_run_without_ciphertext(svc, caller, p, action="Decrypt", key_member="KeyId")
    names = ("CiphertextBlob", "KeyId", "EncryptionContext", "EncryptionAlgorithm")
    rsa_key = _asymmetric_source(svc, caller, p, key_member="KeyId", algorithm_member=names[3])
    if rsa_key is not None:
        plaintext = _open_asymmetric(
            svc, caller, p, rsa_key, action="Decrypt", permission="Decrypt", names=names
        )
        dry_run(p)
        algorithm = p["EncryptionAlgorithm"]
        return {"KeyId": rsa_key.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}
    key, plaintext, material_id = _open(
        svc, caller, p, action="Decrypt", permission="Decrypt", names=names
    )
    dry_run(p)
    return {
        "KeyId": key.arn,
        "Plaintext": plaintext,
        "EncryptionAlgorithm": SYMMETRIC_DEFAULT,
        "KeyMaterialId": material_id,
    }


def _reencrypt_source(
    svc: KmsService, caller: Caller, p: dict[str, Any]
) -> tuple[KeyRecord, bytes, str, str | None]:
    """The source key, the plaintext, the source algorithm and (symmetric only) material id."""
    names = (
        "CiphertextBlob",
        "SourceKeyId",
        "SourceEncryptionContext",
        "SourceEncryptionAlgorithm",
    )
    rsa_key = _asymmetric_source(svc, caller, p, key_member=names[1], algorithm_member=names[3])
    if rsa_key is not None:
        plaintext = _open_asymmetric(
            svc, caller, p, rsa_key, action="ReEncrypt", permission="ReEncryptFrom", names=names
        )
        return rsa_key, plaintext, p[names[3]], None
    source, plaintext, material_id = _open(
        svc, caller, p, action="ReEncrypt", permission="ReEncryptFrom", names=names
    )
    return source, plaintext, SYMMETRIC_DEFAULT, material_id


def re_encrypt(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    _dry_run_without_ciphertext(svc, caller, p, action="ReEncrypt", key_member="SourceKeyId")
    source, plaintext, source_algorithm, source_material = _reencrypt_source(svc, caller, p)
    destination = _destination(svc, caller, p)
    algorithm = p.get("DestinationEncryptionAlgorithm") or SYMMETRIC_DEFAULT
    symmetric = destination.key_spec is KeySpec.SYMMETRIC_DEFAULT
    if not symmetric:
        _check_size(destination, algorithm, plaintext)
    dry_run(p)
    if symmetric:
        blob = seal(svc, destination, plaintext, p.get("DestinationEncryptionContext"))
    else:
        blob = svc.keystore.encrypt_rsa(svc.handle(destination), algorithm, plaintext)
    out: dict[str, Any] = {
        "CiphertextBlob": blob,
        "SourceKeyId": source.arn,
        "KeyId": destination.arn,
        "SourceEncryptionAlgorithm": source_algorithm,
        "DestinationEncryptionAlgorithm": algorithm,
    }
    if source_material is not None:
        out["SourceKeyMaterialId"] = source_material
    if symmetric:
        out["DestinationKeyMaterialId"] = destination.current_material_id
    return out
