"""One exception tree for the whole service.

Every error a client can see is a subclass of :class:`ServiceError`; each class knows the AWS error
code it is sent as and its HTTP status. The wire mapping lives in ``strongroom.protocol.json11``
(KMS) and ``strongroom.protocol.query`` (IAM, STS: which renames the shared classes to their Query
codes, e.g. ``ValidationException`` -> ``ValidationError``) and nowhere else. Messages never carry
plaintext, key material or secrets.
"""

from __future__ import annotations

from typing import ClassVar


class ServiceError(Exception):
    """An error with an AWS error code, an HTTP status and a client-facing message."""

    code: ClassVar[str] = "KMSInternalException"
    status: ClassVar[int] = 500

    def __init__(self, message: str | None = "") -> None:
        super().__init__(message or self.code)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ClientError(ServiceError):
    """A 400: the caller's request cannot be served as it stands."""

    status = 400


# -- protocol and authentication ----------------------------------------------------------------


class SerializationException(ClientError):
    code = "SerializationException"


class UnknownOperationException(ClientError):
    code = "UnknownOperationException"


class ValidationException(ClientError):
    code = "ValidationException"


class MissingAuthenticationTokenException(ClientError):
    code = "MissingAuthenticationTokenException"


class IncompleteSignatureException(ClientError):
    code = "IncompleteSignatureException"


class InvalidSignatureException(ClientError):
    code = "InvalidSignatureException"


class UnrecognizedClientException(ClientError):
    code = "UnrecognizedClientException"


class ExpiredTokenException(ClientError):
    code = "ExpiredTokenException"


class AccessDeniedException(ClientError):
    code = "AccessDeniedException"


class RequestEntityTooLargeException(ClientError):
    code = "RequestEntityTooLargeException"
    status = 413


class ThrottlingException(ClientError):
    code = "ThrottlingException"


# -- KMS modeled client exceptions ----------------------------------------------------------------


class NotFoundException(ClientError):
    code = "NotFoundException"


class DisabledException(ClientError):
    code = "DisabledException"


class KMSInvalidStateException(ClientError):
    code = "KMSInvalidStateException"


class InvalidKeyUsageException(ClientError):
    code = "InvalidKeyUsageException"


class InvalidCiphertextException(ClientError):
    """Any failure to open a ciphertext. Opaque on purpose: AWS sends no message at all."""

    code = "InvalidCiphertextException"

    def __init__(self) -> None:
        super().__init__(None)


class KMSInvalidMacException(ClientError):
    """A MAC that does not verify. Opaque on purpose: AWS sends no message at all."""

    code = "KMSInvalidMacException"

    def __init__(self) -> None:
        super().__init__(None)


class KMSInvalidSignatureException(ClientError):
    """A signature that does not verify. Opaque on purpose: AWS sends no message at all."""

    code = "KMSInvalidSignatureException"

    def __init__(self) -> None:
        super().__init__(None)


class IncorrectKeyException(ClientError):
    code = "IncorrectKeyException"


class InvalidArnException(ClientError):
    code = "InvalidArnException"


class InvalidAliasNameException(ClientError):
    code = "InvalidAliasNameException"


class AlreadyExistsException(ClientError):
    code = "AlreadyExistsException"


class InvalidMarkerException(ClientError):
    code = "InvalidMarkerException"


class LimitExceededException(ClientError):
    code = "LimitExceededException"


class MalformedPolicyDocumentException(ClientError):
    code = "MalformedPolicyDocumentException"


class TagException(ClientError):
    code = "TagException"


class UnsupportedOperationException(ClientError):
    code = "UnsupportedOperationException"


class InvalidGrantIdException(ClientError):
    code = "InvalidGrantIdException"


class InvalidGrantTokenException(ClientError):
    code = "InvalidGrantTokenException"


class DryRunOperationException(ClientError):
    """A DryRun call that would have succeeded (nothing was changed)."""

    code = "DryRunOperationException"

    def __init__(
        self, message: str = "The request would have succeeded, but the DryRun option is set."
    ) -> None:
        super().__init__(message)


class ConflictException(ClientError):
    code = "ConflictException"


class IncorrectKeyMaterialException(ClientError):
    code = "IncorrectKeyMaterialException"


class ExpiredImportTokenException(ClientError):
    code = "ExpiredImportTokenException"


class InvalidImportTokenException(ClientError):
    code = "InvalidImportTokenException"


# -- server faults --------------------------------------------------------------------------------


class KMSInternalException(ServiceError):
    """An unexpected failure. The message sent never includes the cause."""

    code = "KMSInternalException"
    status = 500


class KeyUnavailableException(ServiceError):
    code = "KeyUnavailableException"
    status = 500


class DependencyTimeoutException(ServiceError):
    code = "DependencyTimeoutException"
    status = 503


class NotAuthorizedException(ClientError):
    """What AWS answers for writes to the reserved ``alias/aws/`` namespace."""

    code = "NotAuthorizedException"


# -- IAM and STS (AWS Query services: the code is the Query error code) ----------------------------


class MissingActionException(ClientError):
    code = "MissingAction"


class NoSuchEntityException(ClientError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExistsException(ClientError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflictException(ClientError):
    code = "DeleteConflict"
    status = 409


class InvalidInputException(ClientError):
    code = "InvalidInput"
