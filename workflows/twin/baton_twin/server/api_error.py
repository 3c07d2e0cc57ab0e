"""The error `baton serve` answers with, in both wire forms Google APIs use: an HTTP status with
`{"error": {code, message, status}}` (REST) and a gRPC status code."""

from __future__ import annotations

HTTP_CODES = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
}


class ApiError(Exception):
    """A request the served API refuses; `status` is the canonical google.rpc code name."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        if status not in HTTP_CODES:
            raise ValueError(f"unknown status {status}")
        self.status = status
        self.message = message

    @property
    def http_code(self) -> int:
        """The HTTP status Google's REST endpoints send for `status`."""
        return HTTP_CODES[self.status]

    def body(self) -> dict[str, object]:
        """The JSON error body of Google's REST endpoints."""
        return {"error": {"code": self.http_code, "message": self.message, "status": self.status}}
