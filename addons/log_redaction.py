"""Redact identifiers from every log record that reaches a configured handler.

The filter sits on handlers, not loggers: logger filters do not see records
propagated from child loggers (rasa.*, sanic.*). Rasa logs the user's text and
parse data at DEBUG, so production must run at INFO or above regardless.
"""
from __future__ import annotations

import logging
from typing import Set

from addons.redaction import redact_text

logger = logging.getLogger(__name__)


class RedactingFilter(logging.Filter):
    """Formats the message once, redacts it and drops the args (they may hold objects)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler's error path
            return True
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:  # SQL errors quote the statement's parameters
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
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
