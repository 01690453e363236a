"""The exception tree and the one JSON error shape.

    VideoInsightsError                 code, status, message (names what was wrong)
    ├── BadRequest          400        malformed input: a field, operator, value or body
    │   └── DumpRejected    400        an uploaded dump that cannot be read
    ├── Unauthorized        401        no or wrong credentials
    ├── Forbidden           403        credentials fine, signature wrong or resource not reachable
    ├── NotFound            404
    ├── MethodNotAllowed    405
    ├── PayloadTooLarge     413
    ├── UnsupportedMedia    415
    └── StoreUnavailable    503        the store could not be reached

Every error leaves the service as Twilio's shape, `{"code", "message", "more_info", "status"}`, so
that twilio-python raises TwilioRestException with our message.
"""

from __future__ import annotations

from typing import Any

DOCS_ERRORS = "/docs/api.md#errors"


class VideoInsightsError(Exception):
    status: int = 500
    code: int = 20500

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_json(self) -> dict[str, Any]:
        return error_body(self.status, self.message, code=self.code)


class BadRequest(VideoInsightsError):
    status = 400
    code = 20001


class DumpRejected(BadRequest):
    pass


class Unauthorized(VideoInsightsError):
    status = 401
    code = 20003


class Forbidden(VideoInsightsError):
    status = 403
    code = 20403


class NotFound(VideoInsightsError):
    status = 404
    code = 20404


class MethodNotAllowed(VideoInsightsError):
    status = 405
    code = 20405


class PayloadTooLarge(VideoInsightsError):
    status = 413
    code = 20413


class UnsupportedMedia(VideoInsightsError):
    status = 415
    code = 20415


class StoreUnavailable(VideoInsightsError):
    status = 503


class Saturated(VideoInsightsError):
    """The writer is behind: the client should send again after `retry_after_s` (a Retry-After)."""

    status = 503

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
    code = 20503


def error_body(status: int, message: str, *, code: int | None = None) -> dict[str, Any]:
    return {
        "code": code if code is not None else 20000 + status,
        "message": message,
        "more_info": DOCS_ERRORS,
        "status": status,
    }
