"""Log redaction sees through the ASCII escapes of Rasa's structlog JSON (found by the
real-process test: `\\u624b\\u673a13812345678` hid the phone number behind the escape's last letter)."""

from __future__ import annotations

import io
import json
import logging

from addons.patches import log_redaction
from addons.patches.log_redaction import redact_log_text

ID_NUMBER, PHONE, CARD = "110101199003077571", "13812345678", "6222021234567890128"
TEXT = f"我的身份证号是{ID_NUMBER}，手机{PHONE}，卡号{CARD}"


def test_escaped_json_is_decoded_and_redacted():
    escaped = json.dumps({"parse_data_text": TEXT})  # ensure_ascii: what structlog writes
    assert PHONE in escaped and "\\u624b\\u673a" + PHONE in escaped
    redacted = redact_log_text(escaped)
    assert not any(raw in redacted for raw in (ID_NUMBER, PHONE, CARD))
    assert "手机[手机号]" in redacted and "[身份证号]" in redacted and "[银行卡号]" in redacted


def test_doubly_escaped_json_inside_json():
    inner = json.dumps({"text": TEXT})
    outer = json.dumps({"rasa_events": [inner]})
    assert "\\\\u" in outer
    redacted = redact_log_text(outer)
    assert not any(raw in redacted for raw in (ID_NUMBER, PHONE, CARD))


def test_lone_surrogates_stay_escaped_and_plain_text_is_untouched():
    assert redact_log_text('{"t": "\\ud83d"}') == '{"t": "\\ud83d"}'
    assert redact_log_text("nothing to see 95555 12378") == "nothing to see 95555 12378"


def test_log_records_use_it():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log = logging.getLogger("test_log_redaction_escapes")
    log.addHandler(handler)
    log.propagate = False
    was = log_redaction.installed()
    log_redaction.install()
    try:
        log.warning("%s", json.dumps({"parse_data_text": TEXT}))
    finally:
        log.removeHandler(handler)
        if not was:
            log_redaction.uninstall()
    assert PHONE not in stream.getvalue() and "[手机号]" in stream.getvalue()
