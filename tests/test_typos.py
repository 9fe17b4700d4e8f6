"""The typo table (data/lexicons/typos.yml) as the normaliser applies it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.components.text_normalizer import ChineseTextNormalizer
from chinese_text.lexicon_files import LexiconError
from chinese_text.normalise import TypoTable, normalise

ROOT = Path(__file__).resolve().parent.parent
TYPOS_FILE = ROOT / "data" / "lexicons" / "typos.yml"
RAW = yaml.safe_load(TYPOS_FILE.read_text(encoding="utf-8"))
TABLE = TypoTable.from_file(str(TYPOS_FILE))

FIX_EXAMPLES = [(e["typo"], e["fix"], example) for e in RAW["fixes"] for example in e["examples"]]


def test_every_fix_has_examples_and_keeps_the_length():
    assert len(RAW["fixes"]) >= 40
    for entry in RAW["fixes"]:
        assert entry["examples"], entry["typo"]
        assert len(entry["typo"]) == len(entry["fix"]), entry["typo"]


@pytest.mark.parametrize("typo, fix, example", FIX_EXAMPLES, ids=[f"{t}:{x}" for t, _, x in FIX_EXAMPLES])
def test_each_entry_fixes_its_typo_in_a_sentence(typo, fix, example):
    assert typo in example
    position = example.index(typo)
    fixed = TABLE.fix_same_length(example)
    assert len(fixed) == len(example)
    assert fixed[position : position + len(fix)] == fix
    assert normalise(example, TABLE)[0][position : position + len(fix)] == fix


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("崔收的人說要起述我", "催收的人说要起诉我"),  # Traditional first, then the typos
        ("信用卡預期三個月了", "信用卡逾期三个月了"),
        ("會不會坐勞", "会不会坐牢"),
        ("申請停息掛帳", "申请停息挂账"),
        ("正信報告花了", "征信报告花了"),
        ("崔收上们录象", "催收上门录像"),
    ],
)
def test_traditional_input_is_converted_then_fixed(raw, expected):
    assert normalise(raw, TABLE)[0] == expected


# Correct everyday sentences with the look-alike words: nothing may change.
UNCHANGED = [
    "超出预期了",
    "结果符合预期了",
    "低于预期了",
    "和我预期的一样",
    "今年的预期目标完成了",
    "我们预期三个月内完成",
    "预期五年后退休",
    "这个项目预期三年回本",
    "贷款预期利率是多少",
    "预期收益很高",
    "市场预期会降息",
    "人均预期寿命",
    "心理预期了解一下",
    "请核对身份证信息",
    "收到了验证信息",
    "记录相关信息",
    "登录相关账号",
    "上证信息网",
    "保证信用良好",
    "他们瓜分其财产",
    "周末去山上挂帐篷",
    "老崔收到了快递",
    "小崔收钱了",
    "把架子做牢固一点",
    "我们要做牢靠的产品",
    "皇上们都来了",
    "律师含糊其辞",
    "不锈钢网带输送机",
    "海边捡花贝壳",
    "我属马",
    "他骑马去了",
    "千军万马",
    "悬崖勒马",
    "这是一匹好马",
    "他是今年的黑马",
    "快上马",
    "我立马还钱!",
    "吹收音机",
    "崔收藏了很多邮票",
    "我的预期是三个月能还上",
    "policeman 来了",
    "policy 怎么写",
    "yuqing 是我同学",
    "xyz 公司",
    "这家鞋商很有名",
    "想去找鞋商进货",
    "debts 很多",
]


@pytest.mark.parametrize("sentence", UNCHANGED)
def test_correct_sentences_are_left_alone(sentence):
    assert TABLE.fix_same_length(sentence) == sentence
    assert normalise(sentence, TABLE)[0] == normalise(sentence)[0]


@pytest.mark.parametrize("entry", RAW["romanized"], ids=[e["word"] for e in RAW["romanized"]])
def test_each_romanized_word_becomes_chinese(entry):
    normalised = normalise(entry["example"], TABLE)[0]
    assert entry["fix"] in normalised
    assert entry["word"].replace(" ", "") not in normalised.lower().replace(" ", "")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("我的 Credit Card 逾期", "我的信用卡逾期"),
        ("xinyongka yuqi le", "信用卡逾期le"),  # no space left between Chinese characters
        ("ＣＵＩＳＨＯＵ 天天打电话", "催收天天打电话"),  # full-width letters folded first
        ("police", "警察"),
    ],
)
def test_romanized_words_in_context(raw, expected):
    assert normalise(raw, TABLE)[0] == expected


def test_entity_offsets_survive_typos_and_romanized_words():
    text = "崔收 说我的 credit card 欠了 ５万, 要上们"
    amount_start = text.index("５万")
    card_start = text.index("credit card")
    visit_start = text.index("上们")
    message = Message(
        data={
            TEXT: text,
            ENTITIES: [
                {"entity": "amount", "value": 50000, "start": amount_start, "end": amount_start + 2},
                {"entity": "card", "value": "信用卡", "start": card_start, "end": card_start + len("credit card")},
                {"entity": "behavior", "value": "上门", "start": visit_start, "end": visit_start + 2},
            ],
        }
    )
    ChineseTextNormalizer(typos=TABLE).process_training_data(TrainingData([message]))
    normalised = message.get(TEXT)
    assert normalised == "催收说我的信用卡欠了5万,要上门"
    spans = [normalised[e["start"] : e["end"]] for e in message.get(ENTITIES)]
    assert spans == ["5万", "信用卡", "上门"]


@pytest.mark.parametrize(
    "fixes",
    [
        [{"typo": "催收", "fix": "催", "examples": ["x"]}],  # length changes
        [{"typo": "崔收", "fix": "崔收", "examples": ["x"]}],  # no change
        [{"typo": "崔收", "fix": "催收", "after": "(", "examples": ["x"]}],  # bad regex
    ],
)
def test_malformed_entries_are_refused(fixes):
    with pytest.raises(LexiconError):
        TypoTable.from_mapping({"fixes": fixes}, "test")


def test_romanized_words_must_be_lower_case_letters():
    with pytest.raises(LexiconError):
        TypoTable.from_mapping({"romanized": [{"word": "Cui-Shou", "fix": "催收"}]}, "test")
