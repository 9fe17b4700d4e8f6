"""Identifier masking: what must be masked, and the numbers that must survive."""

from __future__ import annotations

import io
import logging

import pytest

from addons.patches import log_redaction
from addons.stores.redaction import (
    BANK_CARD,
    EMAIL,
    ID_CARD,
    PHONE,
    id15_plausible,
    id18_valid,
    luhn_valid,
    redact_text,
    redact_value,
)

ID_18 = "11010519491231002X"  # check digit X
ID_18_DIGIT = "440304199001011233"
CARD_19 = "6222021234567890128"
CARD_16 = "4111111111111111"


def test_reference_numbers_are_valid():
    assert id18_valid(ID_18) and id18_valid(ID_18_DIGIT)
    assert not id18_valid(ID_18_DIGIT[:-1] + "0")
    assert luhn_valid(CARD_19) and luhn_valid(CARD_16)
    assert id15_plausible("130503670401001") and not id15_plausible("130503671301001")


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"我的身份证{ID_18}，", f"我的身份证{ID_CARD}，"),
        (f"身份证号 {ID_18.lower()}", f"身份证号 {ID_CARD}"),
        (f"身份证：{ID_18_DIGIT}。", f"身份证：{ID_CARD}。"),
        ("440304 19900101 1233", ID_CARD),
        ("旧身份证130503670401001", f"旧身份证{ID_CARD}"),
        ("手机13800138000", f"手机{PHONE}"),
        ("电话：138 0013 8000。", f"电话：{PHONE}。"),
        ("+86 138-0013-8000", PHONE),
        ("(86)13800138000", PHONE),
        ("8613800138000", PHONE),
        ("００８６１９９１２３４５６７８", PHONE),
        ("１３８００１３８０００", PHONE),
        (f"卡号{CARD_19}谢谢", f"卡号{BANK_CARD}谢谢"),
        ("卡号6222 0212 3456 7890 128 谢谢", f"卡号{BANK_CARD} 谢谢"),
        ("4111-1111-1111-1111", BANK_CARD),
        ("622202 1234567890128", BANK_CARD),
        ("邮箱 zhang.san@example.com.cn 联系", f"邮箱 {EMAIL} 联系"),
        ("1234567@qq.com", EMAIL),
    ],
)
def test_identifiers_are_masked(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我欠了43000元",
        "欠了4.3万",
        "50000元",
        "5w",
        "欠款43000 还有50000",
        "2024-03-05 10:30",
        "20240305",
        "2024年3月5日",
        "打95555",
        "400-820-5555",
        "12378",
        "110",
        "12348",
        "010-12345678",
        "逾期180天",
        ID_18_DIGIT[:-1] + "0",  # wrong check digit: not an ID (and not Luhn-valid)
        CARD_16[:-1] + "2",  # fails Luhn
        "12345678901",  # 11 digits but not a mobile prefix
        "138001380001",  # 12 digits: no partial phone match
    ],
)
def test_ordinary_numbers_are_kept(text):
    assert redact_text(text) == text


def test_several_identifiers_in_one_message():
    text = f"我叫张三，身份证{ID_18}，手机13800138000，卡号{CARD_16}，欠了43000元"
    assert redact_text(text) == f"我叫张三，身份证{ID_CARD}，手机{PHONE}，卡号{BANK_CARD}，欠了43000元"


def test_redact_value_copies_nested_structures():
    event = {
        "text": "手机13800138000",
        "parse_data": {"entities": [{"entity": "phone", "value": "13800138000", "start": 2}], "amount": 43000},
        "metadata": {"tags": ("x", f"卡{CARD_16}")},
        "confidence": 0.9,
        "flag": None,
    }
    redacted = redact_value(event)
    assert redacted == {
        "text": f"手机{PHONE}",
        "parse_data": {"entities": [{"entity": "phone", "value": PHONE, "start": 2}], "amount": 43000},
        "metadata": {"tags": ("x", f"卡{BANK_CARD}")},
        "confidence": 0.9,
        "flag": None,
    }
    assert event["text"] == "手机13800138000"  # input untouched
    assert event["parse_data"]["entities"][0]["value"] == "13800138000"


def _capture(logger_name: str = "test.redaction"):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    return stream, handler, logging.getLogger(logger_name)


@pytest.fixture
def redacting_logs():
    was = log_redaction.installed()
    log_redaction.install()
    yield
    if not was:
        log_redaction.uninstall()


def test_log_redaction_redacts_messages_args_and_tracebacks(redacting_logs):
    # the handler is configured after the install, as Rasa configures its own after the hooks
    stream, handler, log = _capture("rasa.core.processor.fake")  # a child logger: record propagates
    old_level = log.level
    try:
        assert log_redaction.installed()
        log.setLevel(logging.INFO)
        log.info("Received user message '%s'", "手机13800138000")
        log.info({"text": f"卡{CARD_16}"})
        try:
            raise ValueError(f"bad row {ID_18}")
        except ValueError:
            log.exception("failed")
    finally:
        log.setLevel(old_level)
        logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    assert PHONE in output and BANK_CARD in output and ID_CARD in output
    for raw in ("13800138000", CARD_16, ID_18):
        assert raw not in output


def test_install_is_idempotent_and_reversible():
    was = log_redaction.installed()
    log_redaction.uninstall()
    original = logging.getLogRecordFactory()
    try:
        assert log_redaction.install() is True
        factory = logging.getLogRecordFactory()
        assert log_redaction.install() is False and logging.getLogRecordFactory() is factory  # wrapped once
        log_redaction.uninstall()
        assert not log_redaction.installed() and logging.getLogRecordFactory() is original
    finally:
        if was:
            log_redaction.install()
