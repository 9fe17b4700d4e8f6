"""Redact identifiers from every log record the process creates.

Target: Python's `logging` record factory (`logging.setLogRecordFactory`), which every
logger of Rasa 3.6.21, Sanic and Rasa's structlog (rendered through stdlib logging)
goes through. The factory, not a handler filter: the hooks are installed at start-up,
before `rasa.__main__` configures its handlers (`logging.basicConfig` in
`rasa.utils.log_utils.configure_structlog`, `--log-file` handlers later), and a record
redacted when it is made reaches every handler configured at any time redacted.

Rasa logs the user's text and parse data at DEBUG, so production must run at INFO or
above regardless (`warn_if_debug()` says so when the agent loads).

Rasa's structlog events are JSON with ASCII escapes (`\\u624b\\u673a13812345678`):
the escape's last hex letter or digit glued to the number would hide it from the
redaction patterns, so escaped characters are decoded before redacting.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Optional

from addons.stores.redaction import redact_text

logger = logging.getLogger(__name__)

# \uXXXX with any number of backslashes (JSON inside JSON doubles them).
_UNICODE_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")

_previous_factory: Optional[Callable[..., logging.LogRecord]] = None
_warned_about_debug = False


def _decode_escape(match: "re.Match[str]") -> str:
    code = int(match.group(1), 16)
    return match.group() if 0xD800 <= code <= 0xDFFF else chr(code)  # lone surrogates stay escaped


def redact_log_text(text: str) -> str:
    """`text` with \\uXXXX escapes decoded and identifiers masked."""
    if "\\u" in text:
        text = _UNICODE_ESCAPE.sub(_decode_escape, text)
    return redact_text(text)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Formats the message once, redacts it and drops the args (they may hold objects)."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to the handler's error path
        return record
    record.msg, record.args = redact_log_text(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:  # SQL errors quote the statement's parameters
        record.exc_text = redact_log_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_log_text(record.stack_info)
    return record


def _redacting_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    make = _previous_factory or logging.LogRecord  # None only while uninstall() runs in another thread
    return redact_record(make(*args, **kwargs))


def installed() -> bool:
    return logging.getLogRecordFactory() is _redacting_record_factory


def install() -> bool:
    """Wrap the current record factory; True if this call installed it. Idempotent."""
    global _previous_factory
    if installed():
        return False
    _previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_redacting_record_factory)
    return True


def uninstall() -> None:
    """Put the factory found by install() back (tests, benchmarks)."""
    global _previous_factory
    if installed() and _previous_factory is not None:
        logging.setLogRecordFactory(_previous_factory)
        _previous_factory = None


def warn_if_debug() -> None:
    """Once per process, when Rasa logs at DEBUG: call it once logging is configured (agent load)."""
    global _warned_about_debug
    if not _warned_about_debug and logging.getLogger("rasa").isEnabledFor(logging.DEBUG):
        _warned_about_debug = True
        logger.warning("DEBUG logging prints users' messages (Rasa logs parse data): use INFO in production.")
