"""Errors the simulated API answers with, in the API's own JSON shape.

``{"error": {"message", "type", "param", "code"}}``, with the status codes and wording the real API uses, so
the SDK raises the same exception classes (``BadRequestError``, ``NotFoundError``, ``RateLimitError``, ...)
with the same ``.code`` / ``.type`` / ``.param``.
"""

from __future__ import annotations

import json
from typing import Any

DOCS = "https://platform.openai.com/docs/guides/error-codes/api-errors"


class ApiError(Exception):
    """An error reply: raised anywhere while handling a request, turned into the HTTP answer."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        #: Short name recorded in the simulator's stats (``rate_limited``, ``server_error``...).
        self.kind = kind or (code or type)

    def body(self) -> bytes:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "param": self.param,
            "code": self.code,
        }
        return json.dumps({"error": error}, indent=2).encode()


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    """400 invalid_request_error."""
    return ApiError(400, message, param=param, code=code, kind="invalid_request")


def missing(param: str) -> ApiError:
    return invalid(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def invalid_type(param: str, expected: str, value: object) -> ApiError:
    got = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "an array"}.get(
        type(value), "an object" if isinstance(value, dict) else "null"
    )
    return invalid(
        f"Invalid type for '{param}': expected {expected}, but got {got} instead.",
        param=param,
        code="invalid_type",
    )


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
        kind="model_not_found",
    )


def unknown_url(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})", kind="unknown_url")


def no_api_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) "
        "if you're accessing the API from your browser and are prompted for a username and password. You can "
        "obtain an API key from https://platform.openai.com/account/api-keys.",
        kind="no_api_key",
    )


def invalid_api_key(key: str) -> ApiError:
    shown = f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*****"
    return ApiError(
        401,
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
        kind="invalid_api_key",
    )


def insufficient_quota() -> ApiError:
    return ApiError(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more information "
        f"on this error, read the docs: {DOCS}.",
        type="insufficient_quota",
        code="insufficient_quota",
        kind="insufficient_quota",
    )


def server_error() -> ApiError:
    return ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
        kind="server_error",
    )


def overloaded() -> ApiError:
    return ApiError(
        503,
        "The engine is currently overloaded, please try again later.",
        type="server_error",
        kind="overloaded",
    )
