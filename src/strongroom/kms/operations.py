"""The table of KMS operations this build serves. Operations in the model but not here answer
UnsupportedOperationException until their issue lands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.errors import UnsupportedOperationException
from strongroom.kms import (
    agreement,
    aliases,
    cryptops,
    datakeypairs,
    datakeys,
    grant_lists,
    grants,
    imports,
    kemops,
    keys,
    macops,
    policies,
    publickeys,
    replicas,
    rotation,
    rotation_lists,
    signops,
    tags,
)
from strongroom.kms.managed_keys import ensure_managed_key
from strongroom.kms.service import KmsService

__all__ = ["OPERATIONS", "Operation", "call"]

Operation = Callable[[KmsService, Caller, dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    "CreateKey": keys.create_key,
    "DescribeKey": keys.describe_key,
    "GetKeyLastUsage": keys.get_key_last_usage,
    "ListKeys": keys.list_keys,
    "EnableKey": keys.enable_key,
    "DisableKey": keys.disable_key,
    "ScheduleKeyDeletion": keys.schedule_key_deletion,
    "CancelKeyDeletion": keys.cancel_key_deletion,
    "UpdateKeyDescription": keys.update_key_description,
    "GetKeyPolicy": policies.get_key_policy,
    "ListKeyPolicies": policies.list_key_policies,
    "PutKeyPolicy": policies.put_key_policy,
    "Encrypt": cryptops.encrypt,
    "Decrypt": cryptops.decrypt,
    "ReEncrypt": cryptops.re_encrypt,
    "GenerateDataKey": datakeys.generate_data_key,
    "GenerateDataKeyWithoutPlaintext": datakeys.generate_data_key_without_plaintext,
    "GenerateRandom": datakeys.generate_random,
    "GenerateMac": macops.generate_mac,
    "VerifyMac": macops.verify_mac,
    "Sign": signops.sign,
    "Verify": signops.verify,
    "GetPublicKey": publickeys.get_public_key,
    "GenerateDataKeyPair": datakeypairs.generate_data_key_pair,
    "GenerateDataKeyPairWithoutPlaintext": datakeypairs.generate_data_key_pair_without_plaintext,
    "DeriveSharedSecret": agreement.derive_shared_secret,
    "Encapsulate": kemops.encapsulate,
    "Decapsulate": kemops.decapsulate,
    "CreateAlias": aliases.create_alias,
    "UpdateAlias": aliases.update_alias,
    "DeleteAlias": aliases.delete_alias,
    "ListAliases": aliases.list_aliases,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListResourceTags": tags.list_resource_tags,
    "EnableKeyRotation": rotation.enable_key_rotation,
    "DisableKeyRotation": rotation.disable_key_rotation,
    "GetKeyRotationStatus": rotation.get_key_rotation_status,
    "RotateKeyOnDemand": rotation.rotate_key_on_demand,
    "ListKeyRotations": rotation_lists.list_key_rotations,
    "GetParametersForImport": imports.get_parameters_for_import,
    "ImportKeyMaterial": imports.import_key_material,
    "DeleteImportedKeyMaterial": imports.delete_imported_key_material,
    "ReplicateKey": replicas.replicate_key,
    "UpdatePrimaryRegion": replicas.update_primary_region,
    "CreateGrant": grants.create_grant,
    "ListGrants": grant_lists.list_grants,
    "ListRetirableGrants": grant_lists.list_retirable_grants,
    "RetireGrant": grants.retire_grant,
    "RevokeGrant": grants.revoke_grant,
}


def call(svc: KmsService, caller: Caller, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one validated operation for ``caller``."""
    handler = OPERATIONS.get(operation)
    if handler is None:
        raise UnsupportedOperationException(
            f"{operation} is not yet supported by Strongroom (this version serves "
            f"{len(OPERATIONS)} KMS operations; see docs/operations.md)."
        )
    if caller.via_service is not None:  # a registered service's first use of alias/aws/...
        ensure_managed_key(svc, caller, params)
    return handler(svc, caller, params)
