"""The sandbox's refusals, shared by both gateway parts and rendered by the app in each gateway's format."""

from __future__ import annotations


class SandboxError(Exception):
    """A refusal the endpoint renders in its gateway's error format."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def bad_request(message: str, field: str | None = None) -> SandboxError:
    """RazorpayX's validation refusal, which most of the sandbox's input checks raise."""
    return SandboxError(400, "BAD_REQUEST_ERROR", message, field)
