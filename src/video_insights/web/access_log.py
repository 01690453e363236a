"""Access-log hygiene: no credential in a logged URL.

Tokens are refused in query strings (`POST /v1/VideoEvents?token=` is a 400), but the server logs a
request's line before any route answers it: this filter masks `token=` values in uvicorn's access log.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"((?:^|[?&])(?:access_)?token=)[^&\s]*", re.I)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "token=" in args[2].lower():
            record.args = (*args[:2], _TOKEN.sub(r"\1[redacted]", args[2]), *args[3:])
        return True


def install() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
