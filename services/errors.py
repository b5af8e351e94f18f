"""Service-layer errors. Each carries a stable machine code; the API maps them to HTTP in one place.

* ServiceError
  - NotFoundError          -> 404 not_found
  - PermissionDeniedError  -> 403 forbidden
  - InvalidInputError      -> 422 (code names the problem, e.g. unknown_field_code)
  - ConflictError          -> 409 (conflict, duplicate, stale_version, invalid_transition, already_registered)
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFoundError(ServiceError):
    status = 404
    code = "not_found"


class PermissionDeniedError(ServiceError):
    status = 403
    code = "forbidden"


class InvalidInputError(ServiceError):
    status = 422
    code = "invalid_input"


class ConflictError(ServiceError):
    status = 409
    code = "conflict"
