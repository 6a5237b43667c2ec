"""The gateway's error envelope, ``{"requestId", "errorCode", "errorMessage"}``, used everywhere."""

from __future__ import annotations

from typing import Any

from daraja_emulator.ids import gateway_id


class ApiError(Exception):
    """Raised anywhere in request handling; the server turns it into the envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message

    def envelope(self) -> dict[str, Any]:
        return {"requestId": gateway_id(), "errorCode": self.code, "errorMessage": self.message}


def invalid_authentication() -> ApiError:
    return ApiError(400, "400.008.01", "Invalid Authentication passed")


def invalid_grant_type() -> ApiError:
    return ApiError(400, "400.008.02", "Invalid grant type passed")


def invalid_access_token() -> ApiError:
    """Reported from production with HTTP 404 (the code's own prefix), not 401."""
    return ApiError(404, "404.001.03", "Invalid Access Token")


def no_apiproduct_match() -> ApiError:
    """What Apigee says when the app's products do not cover the called resource (the wrong
    register-URL version, or simulate against a production shortcode)."""
    return ApiError(401, "401.003.01", "Error: no apiproduct match found")


def invalid_field(name: str, detail: str = "") -> ApiError:
    suffix = f": {detail}" if detail else ""
    return ApiError(400, "400.002.02", f"Bad Request - Invalid {name}{suffix}")


def rejected_url(name: str, problem: str) -> ApiError:
    return ApiError(400, "400.003.02", f"Bad Request - Invalid {name}: {problem}")


def urls_already_registered() -> ApiError:
    return ApiError(500, "500.003.1001", "Urls are already registered.")


def not_found() -> ApiError:
    return ApiError(404, "404.001.01", "Resource not found")
