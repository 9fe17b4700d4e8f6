"""Redact identifiers from every log record that reaches a configured handler.

The filter sits on handlers, not loggers: logger filters do not see records
propagated from child loggers (rasa.*, sanic.*). Rasa logs the user's text and
parse data at DEBUG, so production must run at INFO or above regardless.

Rasa's structlog events are JSON with ASCII escapes (`\u624b\u673a13812345678`):
the escape's last hex letter or digit glued to the number would hide it from the
redaction patterns, so escaped characters are decoded before redacting.
"""
from __future__ import annotations

import logging
import re
from typing import Set

from addons.stores.redaction import redact_text

logger = logging.getLogger(__name__)

# \uXXXX with any number of backslashes (JSON inside JSON doubles them).
_UNICODE_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")


def _decode_escape(match: "re.Match[str]") -> str:
    code = int(match.group(1), 16)
    return match.group() if 0xD800 <= code <= 0xDFFF else chr(code)  # lone surrogates stay escaped


def redact_log_text(text: str) -> str:
    """`text` with \\uXXXX escapes decoded and identifiers masked."""
    if "\\u" in text:
        text = _UNICODE_ESCAPE.sub(_decode_escape, text)
    return redact_text(text)


class RedactingFilter(logging.Filter):
    """Formats the message once, redacts it and drops the args (they may hold objects)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler's error path
            return True
        record.msg, record.args = redact_log_text(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:  # SQL errors quote the statement's parameters
            record.exc_text = redact_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log_text(record.stack_info)
        return True


_FILTER = RedactingFilter()


def _all_handlers() -> Set[logging.Handler]:
    handlers = set(logging.getLogger().handlers)
    for candidate in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(candidate, logging.Logger):
            handlers.update(candidate.handlers)
    return handlers


def install_log_redaction() -> int:
    """Add the filter to every handler configured now; returns how many were new. Idempotent."""
    added = 0
    for handler in _all_handlers():
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
            added += 1
    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        logger.warning("DEBUG logging prints users' messages (Rasa logs parse data): use INFO in production.")
    return added
