"""Asserting AWS errors from boto3 calls: the code, the message and the HTTP status in one tuple."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

__all__ = ["aws_error", "error_of"]


def aws_error(call: Callable[..., Any], /, **params: Any) -> tuple[str, str, int]:
    """Run a boto3 ``call`` that must fail; return ``(code, message, HTTP status)``.

    botocore shows an absent message as ``""``; check the raw body where that difference matters.
    """
    with pytest.raises(ClientError) as info:
        call(**params)
    response = info.value.response
    error = response["Error"]
    return (
        str(error["Code"]),
        str(error.get("Message", "")),
        int(response["ResponseMetadata"]["HTTPStatusCode"]),
    )


def error_of(call: Callable[..., Any], /, **params: Any) -> tuple[int, str, str]:
    """The same, ordered ``(HTTP status, code, message)``."""
    code, message, status = aws_error(call, **params)
    return status, code, message
