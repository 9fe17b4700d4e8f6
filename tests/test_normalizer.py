"""The text normaliser component: script, width, junk, entity offsets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.components.text_normalizer import (
    DEFAULT_TYPOS,
    DROPPED_SYMBOLS,
    INPUT_EMPTY,
    INPUT_TRUNCATED,
    TEXT_SCRIPT,
    TYPOS_PATH,
    ChineseTextNormalizer,
)
from chinese_text.lexicon_files import LexiconError
from chinese_text.normalise import TypoTable, normalise
from chinese_text.script import is_traditional, prefers_traditional, to_traditional


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("催收的人能進我家嗎？", "催收的人能进我家吗?"),
        ("個性化分期怎麼申請", "个性化分期怎么申请"),
        ("招商银行 5 万元", "招商银行5万元"),
        ("我欠了４３０００元", "我欠了43000元"),
        ("ｗｏ　欠　５ｗ", "wo欠5w"),
        ("credit  card 逾期", "credit card逾期"),
        ("a\x00b\x07c", "abc"),
        ("催收😡😡天天打电话", "催收天天打电话"),
        ("   ", ""),
        ("", ""),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw)[0] == expected


def test_index_map_covers_every_character():
    text = "招商银行 5 万元"
    normalised, index_map = normalise(text)
    assert len(index_map) == len(text) + 1
    assert normalised[index_map[5]] == "5" and normalised[index_map[7]] == "万"


def test_long_binary_junk_does_not_raise():
    junk = "".join(chr(c) for c in range(0, 0x3000, 7)) * 5
    normalised, _ = normalise(junk)
    assert "\x00" not in normalised


@pytest.mark.parametrize(
    "text, traditional",
    [
        ("催收的人能進我家嗎", True),
        ("催收的人能进我家吗", False),
        ("銀行說要起訴我", True),
        ("/greet", False),
        ("", False),
    ],
)
def test_script_detection(text, traditional):
    assert is_traditional(text) is traditional


def test_prefers_traditional_skips_button_payloads():
    assert prefers_traditional(["/ask_legal_basis", "催收的人能進我家嗎"])
    assert not prefers_traditional(["/ask_legal_basis", "催收的人能进我家吗", "進"])


def test_to_traditional():
    assert to_traditional("银行说要起诉我") == "銀行說要起訴我"


def test_component_rewrites_text_and_keeps_entity_spans():
    normaliser = ChineseTextNormalizer()
    message = Message(
        data={TEXT: "我欠 招行 ４万", ENTITIES: [{"entity": "bank", "value": "招商银行", "start": 3, "end": 5}]}
    )
    normaliser.process_training_data(TrainingData([message]))
    assert message.get(TEXT) == "我欠招行4万"
    entity = message.get(ENTITIES)[0]
    assert message.get(TEXT)[entity["start"] : entity["end"]] == "招行"


def test_component_marks_script_in_output():
    normaliser = ChineseTextNormalizer()
    message = Message(data={TEXT: "銀行會起訴我嗎"})
    normaliser.process([message])
    assert message.get(TEXT) == "银行会起诉我吗"
    assert message.get(TEXT_SCRIPT) == "traditional"
    assert TEXT_SCRIPT in message.output_properties


@pytest.mark.parametrize("raw", ["", "   ", "😀😀", "\x00\x01", "？？", "嗯？"])
def test_prediction_time_guard(raw):
    normaliser = ChineseTextNormalizer(max_chars=2000)
    message = Message(data={TEXT: raw})
    normaliser.process([message])
    assert message.get(TEXT).strip(), "an empty text would crash the featurisers"
    assert bool(message.get(INPUT_EMPTY)) is (raw != "嗯？")


def test_long_message_is_cut_and_flagged():
    normaliser = ChineseTextNormalizer(max_chars=50)
    message = Message(data={TEXT: "催收上门怎么办" * 100})
    normaliser.process([message])
    assert len(message.get(TEXT)) == 50 and message.get(INPUT_TRUNCATED)


@pytest.mark.parametrize(
    "text, script",
    [
        ("好", "neutral"),
        ("1", "neutral"),
        ("38000", "neutral"),
        ("嗯嗯", "neutral"),
        ("😭😭", "neutral"),
        ("是的,我欠了", "neutral"),  # no character tells the scripts apart
        ("我欠了5万", "simplified"),  # 万 / 萬
        ("银行会起诉我吗", "simplified"),
        ("銀行會起訴我嗎", "traditional"),
        ("对", "simplified"),
        ("對", "traditional"),
    ],
)
def test_text_script_is_neutral_without_distinctive_characters(text, script):
    message = Message(data={TEXT: text})
    ChineseTextNormalizer().process([message])
    assert message.get(TEXT_SCRIPT) == script
    assert TEXT_SCRIPT in message.output_properties


def test_dropped_emoji_are_kept_aside_for_the_safety_net():
    message = Message(data={TEXT: "砸门了😭😭❗️"})
    ChineseTextNormalizer().process([message])
    assert message.get(TEXT) == "砸门了"  # the emoji presentation selector goes too
    assert message.get(DROPPED_SYMBOLS) == "😭😭❗"
    assert DROPPED_SYMBOLS not in message.output_properties


def test_create_loads_the_typo_table_from_the_configured_path(tmp_path):
    lexicon = tmp_path / "typos.yml"
    lexicon.write_text("fixes:\n  - {typo: 崔收, fix: 催收, examples: [崔收]}\n", encoding="utf-8")
    normaliser = ChineseTextNormalizer.create({TYPOS_PATH: str(lexicon)}, None, None, None)
    message = Message(data={TEXT: "崔收来了"})
    normaliser.process([message])
    assert message.get(TEXT) == "催收来了"
    default = ChineseTextNormalizer.create({}, None, None, None)  # data/lexicons/typos.yml
    message = Message(data={TEXT: "信用咔預期三個月"})
    default.process([message])
    assert message.get(TEXT) == "信用卡逾期三个月"


def test_create_refuses_a_missing_typo_table(tmp_path):
    with pytest.raises(LexiconError):
        ChineseTextNormalizer.create({TYPOS_PATH: str(tmp_path / "missing.yml")}, None, None, None)


def test_editing_the_typo_table_changes_the_fingerprint(tmp_path):
    lexicon = tmp_path / "typos.yml"
    lexicon.write_text("fixes: []\n", encoding="utf-8")
    before = ChineseTextNormalizer.fingerprint_addon({TYPOS_PATH: str(lexicon)})
    assert before == ChineseTextNormalizer.fingerprint_addon({TYPOS_PATH: str(lexicon)})
    lexicon.write_text("fixes:\n  - {typo: 崔收, fix: 催收, examples: [崔收]}\n", encoding="utf-8")
    assert ChineseTextNormalizer.fingerprint_addon({TYPOS_PATH: str(lexicon)}) != before


def _button_payloads() -> list:
    """Every quick-reply payload the bot can send: domain responses and the knowledge base."""
    root = Path(__file__).resolve().parent.parent
    found: set = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("payload"), str):
                found.add(node["payload"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in [root / "domain.yml", *sorted((root / "actions" / "knowledge").glob("*.yml"))]:
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return sorted(found)


def test_the_bot_sends_button_payloads():
    assert '/inform{"choice": "police"}' in _button_payloads()


@pytest.mark.parametrize("payload", _button_payloads())
def test_button_payloads_reach_rasa_unchanged(payload):
    """Rasa parses "/intent{...}" itself; "police" must not become 警察 on the way."""
    message = Message(data={TEXT: payload})
    ChineseTextNormalizer(typos=TypoTable.from_file(DEFAULT_TYPOS)).process([message])
    assert message.get(TEXT) == payload
