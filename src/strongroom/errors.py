"""One exception tree for the whole service.

Every error a client can see is a subclass of :class:`ServiceError`; each class knows the AWS error
code it is sent as and its HTTP status. The wire mapping lives in ``strongroom.protocol.json11``
(KMS) and ``strongroom.protocol.query`` (IAM, STS: which renames the shared classes to their Query
codes, e.g. ``ValidationException`` -> ``ValidationError``) and nowhere else. Messages never carry
plaintext, key material or secrets.

A class is sent as its own name with its base's status, unless its class keywords say otherwise:
``class NoSuchEntityException(ClientError, code="NoSuchEntity", status=404)``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """An error with an AWS error code, an HTTP status and a client-facing message."""

    code: ClassVar[str] = "KMSInternalException"
    status: ClassVar[int] = 500

    def __init_subclass__(
        cls, *, code: str | None = None, status: int | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = cls.__name__ if code is None else code
        if status is not None:
            cls.status = status

    def __init__(self, message: str | None = "") -> None:
        super().__init__(message or self.code)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ClientError(ServiceError, code=ServiceError.code, status=400):
    """A 400: the caller's request cannot be served as it stands. A base, never raised itself (it
    keeps the service's fallback code)."""


class _OpaqueError(ClientError):
    """An error AWS sends with no message at all, on purpose: it tells nothing of the cause."""

    def __init__(self) -> None:
        super().__init__(None)


# -- protocol and authentication ----------------------------------------------------------------


class SerializationException(ClientError): ...


class UnknownOperationException(ClientError): ...


class ValidationException(ClientError): ...


class MissingAuthenticationTokenException(ClientError): ...


class IncompleteSignatureException(ClientError): ...


class InvalidSignatureException(ClientError): ...


class UnrecognizedClientException(ClientError): ...


class ExpiredTokenException(ClientError): ...


class AccessDeniedException(ClientError): ...


class RequestEntityTooLargeException(ClientError, status=413): ...


class ThrottlingException(ClientError): ...


# -- KMS modeled client exceptions ----------------------------------------------------------------


class NotFoundException(ClientError): ...


class DisabledException(ClientError): ...


class KMSInvalidStateException(ClientError): ...


class InvalidKeyUsageException(ClientError): ...


class InvalidCiphertextException(_OpaqueError):
    """Any failure to open a ciphertext."""


class KMSInvalidMacException(_OpaqueError):
    """A MAC that does not verify."""


class KMSInvalidSignatureException(_OpaqueError):
    """A signature that does not verify."""


class IncorrectKeyException(ClientError): ...


class InvalidArnException(ClientError): ...


class InvalidAliasNameException(ClientError): ...


class AlreadyExistsException(ClientError): ...


class InvalidMarkerException(ClientError): ...


class LimitExceededException(ClientError): ...


class MalformedPolicyDocumentException(ClientError): ...


class TagException(ClientError): ...


class UnsupportedOperationException(ClientError): ...


class InvalidGrantIdException(ClientError): ...


class InvalidGrantTokenException(ClientError): ...


class DryRunOperationException(ClientError):
    """A DryRun call that would have succeeded (nothing was changed)."""

    def __init__(
        self, message: str = "The request would have succeeded, but the DryRun option is set."
    ) -> None:
        super().__init__(message)


class ConflictException(ClientError): ...


class IncorrectKeyMaterialException(ClientError): ...


class ExpiredImportTokenException(ClientError): ...


class InvalidImportTokenException(ClientError): ...


# -- server faults --------------------------------------------------------------------------------


class KMSInternalException(ServiceError):
    """An unexpected failure. The message sent never includes the cause."""


class KeyUnavailableException(ServiceError): ...


class DependencyTimeoutException(ServiceError, status=503): ...


class NotAuthorizedException(ClientError):
    """What AWS answers for writes to the reserved ``alias/aws/`` namespace."""


# -- IAM and STS (AWS Query services: the code is the Query error code) ----------------------------


class MissingActionException(ClientError, code="MissingAction"): ...


class NoSuchEntityException(ClientError, code="NoSuchEntity", status=404): ...


class EntityAlreadyExistsException(ClientError, code="EntityAlreadyExists", status=409): ...


class DeleteConflictException(ClientError, code="DeleteConflict", status=409): ...


class InvalidInputException(ClientError, code="InvalidInput"): ...


# -- CloudTrail (LookupEvents) ------------------------------------------------------------------
class InvalidLookupAttributesException(ClientError): ...


class InvalidTimeRangeException(ClientError): ...


class InvalidNextTokenException(ClientError): ...


class InvalidEventCategoryException(ClientError): ...
