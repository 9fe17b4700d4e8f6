"""Money amounts, durations and their classification (actions.guidance.quantities)."""
from __future__ import annotations

import random

import pytest

from actions.guidance import quantities as q
from actions.guidance.quantities import (
    AMOUNT,
    MONTHLY_EXPENSE,
    MONTHLY_INCOME,
    OVERDUE_DURATION,
    classify_money,
    extract_quantities,
    parse_duration,
    parse_money,
)


# --------------------------------------------------------------------------- #
# parse_money

@pytest.mark.parametrize(
    "text, expected",
    [
        ("四万三", 43000),
        ("4.3w", 43000),
        ("4.3W", 43000),
        ("5w", 50000),
        ("4300多", 4300),
        ("43000元", 43000),
        ("两万块", 20000),
        ("一万二", 12000),
        ("3千", 3000),
        ("六千", 6000),
        ("1.5万", 15000),
        ("十万", 100000),
        ("五十万", 500000),
        ("2万5", 25000),
        ("4,300", 4300),
        ("43,000元", 43000),
        ("8k", 8000),
        ("8K", 8000),
        ("1w2", 12000),
        ("两千五", 2500),
        ("一千五", 1500),
        ("三万五千", 35000),
        ("4万3千", 43000),
        ("三万多", 30000),
        ("一万来块", 10000),
        ("两千左右", 2000),
        ("大概四万", 40000),
        ("¥4300", 4300),
        ("4300块钱", 4300),
        ("一点五万", 15000),
        ("二十万零五百", 200500),
        ("二十多万", 200000),
        ("三百来万", 3000000),
        ("一万零五", 10005),
        ("两百", 200),
        ("12万", 120000),
        ("4300", 4300),
        ("4300.5", 4300),
        ("４３００元", 4300),  # full-width digits are tolerated
        ("0", 0),
    ],
)
def test_parse_money(text, expected):
    assert parse_money(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "几万", "五六千", "三四万", "万", "千万", "万一", "一二三", "abc", "4,30", "1.2.3",
        "四万三千五百六十七八", "😀", "钱", "很多", "99999999999999", "-500", None, 4300, b"4300",
        ["4300"], "一" * 100,
    ],
)
def test_parse_money_nonsense_is_none(text):
    assert parse_money(text) is None


# --------------------------------------------------------------------------- #
# parse_duration

@pytest.mark.parametrize(
    "text, expected",
    [
        ("三个月", 90),
        ("半年", 180),
        ("一年", 365),
        ("一年半", 545),
        ("两年", 730),
        ("20天", 20),
        ("两周", 14),
        ("3个多月", 90),
        ("三个多月", 90),
        ("一个月", 30),
        ("一个半月", 45),
        ("半个月", 15),
        ("两个星期", 14),
        ("一个礼拜", 7),
        ("一年多", 365),
        ("二十多天", 20),
        ("大概三个月", 90),
        ("两个月了", 60),
        ("十个月", 300),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["三月", "几个月", "十几天", "半天", "", "个月", "2023年", "三个年", "年", "😀", None, 90, "一" * 50],
)
def test_parse_duration_nonsense_is_none(text):
    assert parse_duration(text) is None


# --------------------------------------------------------------------------- #
# classify_money

@pytest.mark.parametrize(
    "text, number, expected",
    [
        ("我欠了四万三", "四万三", AMOUNT),
        ("欠款4300", "4300", AMOUNT),
        ("信用卡透支了两万", "两万", AMOUNT),
        ("本金三万", "三万", AMOUNT),
        ("额度五万", "五万", AMOUNT),
        ("每个月还两千", "两千", AMOUNT),
        ("总共三万多", "三万", AMOUNT),
        ("一共欠了八万", "八万", AMOUNT),
        ("工资六千", "六千", MONTHLY_INCOME),
        ("收入四千", "四千", MONTHLY_INCOME),
        ("月薪8k", "8k", MONTHLY_INCOME),
        ("一个月挣五千", "五千", MONTHLY_INCOME),
        ("一个月能赚七千", "七千", MONTHLY_INCOME),
        ("到手五千", "五千", MONTHLY_INCOME),
        ("房租两千", "两千", MONTHLY_EXPENSE),
        ("生活费一千五", "一千五", MONTHLY_EXPENSE),
        ("每月开销三千", "三千", MONTHLY_EXPENSE),
        ("花销大概两千", "两千", MONTHLY_EXPENSE),
        ("支出四千", "四千", MONTHLY_EXPENSE),
        ("开支三千五", "三千五", MONTHLY_EXPENSE),
        ("一个月花三千", "三千", MONTHLY_EXPENSE),
        ("四万三的欠款", "四万三", AMOUNT),
        ("三千的房租", "三千", MONTHLY_EXPENSE),
        ("5w", "5w", AMOUNT),  # no keyword: the debt a form asks for
        ("利息三千", "三千", None),
        ("违约金两千", "两千", None),
    ],
)
def test_classify_money(text, number, expected):
    start = text.index(number)
    assert classify_money(text, start, start + len(number)) == expected


def test_classify_money_nearest_keyword_wins():
    text = "工资六千房租两千"
    assert classify_money(text, 2, 4) == MONTHLY_INCOME
    assert classify_money(text, 6, 8, floor=4) == MONTHLY_EXPENSE


@pytest.mark.parametrize("args", [(None, 0, 1), ("abc", 5, 9), ("abc", 2, 1), (123, 0, 1)])
def test_classify_money_junk(args):
    assert classify_money(*args) is None


# --------------------------------------------------------------------------- #
# extract_quantities over whole messages

def _pairs(text, blocked=()):
    return [(e["entity"], e["value"]) for e in extract_quantities(text, blocked)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我欠了招行四万三", [(AMOUNT, 43000)]),
        ("每个月工资六千房租两千", [(MONTHLY_INCOME, 6000), (MONTHLY_EXPENSE, 2000)]),
        ("逾期三个多月了", [(OVERDUE_DURATION, 90)]),
        ("逾期半年了，欠了5w", [(OVERDUE_DURATION, 180), (AMOUNT, 50000)]),
        ("逾期一年半了欠款1.5万", [(OVERDUE_DURATION, 545), (AMOUNT, 15000)]),
        ("三个月没还了", [(OVERDUE_DURATION, 90)]),
        ("已经逾期两年了", [(OVERDUE_DURATION, 730)]),
        ("拖了20天", [(OVERDUE_DURATION, 20)]),
        ("逾期两周了", [(OVERDUE_DURATION, 14)]),
        ("一个月挣五千", [(MONTHLY_INCOME, 5000)]),
        ("生活费一个月1500", [(MONTHLY_EXPENSE, 1500)]),
        ("工资3500一个月", [(MONTHLY_INCOME, 3500)]),
        ("工资到手五千", [(MONTHLY_INCOME, 5000)]),
        ("每月花销三千左右", [(MONTHLY_EXPENSE, 3000)]),
        ("月薪8k", [(MONTHLY_INCOME, 8000)]),
        ("房租加生活费三千", [(MONTHLY_EXPENSE, 3000)]),
        ("收入不固定，平均五千多吧", [(MONTHLY_INCOME, 5000)]),
        ("我现在没工作，没有收入", [(MONTHLY_INCOME, 0)]),
        ("工资3000房租1000生活费800",
         [(MONTHLY_INCOME, 3000), (MONTHLY_EXPENSE, 1000), (MONTHLY_EXPENSE, 800)]),
        ("4300多", [(AMOUNT, 4300)]),
        ("43000元", [(AMOUNT, 43000)]),
        ("两万块", [(AMOUNT, 20000)]),
        ("大概4,300元吧", [(AMOUNT, 4300)]),
        ("我欠了大概4,300元", [(AMOUNT, 4300)]),
        ("欠了四万三的欠款", [(AMOUNT, 43000)]),
        ("欠了两万，利息三千", [(AMOUNT, 20000)]),
        ("总共欠三万多块", [(AMOUNT, 30000)]),
        ("欠卡债三万会不会坐牢", [(AMOUNT, 30000)]),
        ("信用卡欠了五万多，能协商分期吗", [(AMOUNT, 50000)]),
        ("我欠了好几家加起来二十多万", [(AMOUNT, 200000)]),
        ("欠了十多万，工资四千多", [(AMOUNT, 100000), (MONTHLY_INCOME, 4000)]),
    ],
)
def test_extract_quantities(text, expected):
    assert _pairs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "今天天气怎么样",
        "我想找律师",
        "一天打几十个电话",
        "一天打十几通电话有没有超过限制",
        "晚上十一点还打电话",
        "催收晚上十点还能打电话吗",
        "三天两头打电话",
        "我有2个孩子",
        "前两天他们上门了",
        "2023年开始逾期",
        "一直跟踪我",
        "万一他们上门怎么办",
        "千万别开门",
        "我的电话是13800138000",
        "催收骚扰可以打12345投诉吗",
        "12378能投诉催收吗",
        "七大姑八大姨都知道了",
        "十一点",
        "第三次上门",
        "一个月上门几次算正常",
        "怎么把几张卡的还款日调到同一天",
        "律师函里说三天不还就起诉",
        "一周能上门几次",
    ],
)
def test_extract_quantities_no_false_positives(text):
    assert _pairs(text) == []


def test_installment_period_is_not_overdue_duration():
    assert _pairs("欠浦发一万二，能不能分两年还") == [(AMOUNT, 12000)]


def test_blocked_spans_are_skipped():
    text = "360借条欠了两千"
    assert (AMOUNT, 2000) in _pairs(text)
    assert _pairs(text, blocked=[(0, 5)]) == [(AMOUNT, 2000)]


def test_offsets_point_at_the_number():
    text = "我每个月工资六千，房租两千块"
    found = extract_quantities(text)
    assert [text[e["start"]:e["end"]] for e in found] == ["六千", "两千块"]


@pytest.mark.parametrize(
    "junk",
    [
        None, 42, 4.3, b"\xff\xfe", ["四万三"], {"a": 1}, "", " ", "\x00\x01\x02\x1b[31m",
        "😀😀😀 欠了💰💰", "欠了" + "9" * 5000, "四万三" * 3000, "一" * 10_000, "万" * 10_000,
        "\u202e四万三\u200b", "欠了\ud800两万", "🤬" * 10_000, "１２３４５６７８９０" * 1000,
        "4,3,0,0", ",,,,", "....", "w" * 1000, "5" + "w" * 500, "第" * 10_000,
    ],
)
def test_junk_never_raises(junk):
    result = extract_quantities(junk)
    assert isinstance(result, list)
    for e in result:
        assert isinstance(e["value"], int)
        assert 0 <= e["start"] < e["end"] <= len(junk)
    assert parse_money(junk) is None or isinstance(parse_money(junk), int)
    assert parse_duration(junk) is None or isinstance(parse_duration(junk), int)


def test_random_fuzz_never_raises():
    rng = random.Random(20240601)
    alphabet = "一二两三四五六七八九十百千万亿零点半多来个月年天周元块wWkK0123456789.,，欠工资房租逾期😀\x00 "
    for _ in range(2000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        for e in extract_quantities(s):
            assert isinstance(e["value"], int) and e["value"] >= 0
        for fn in (parse_money, parse_duration):
            v = fn(s)
            assert v is None or (isinstance(v, int) and v >= 0)


def test_module_does_no_work_at_import():
    # cn2an is imported lazily, on the first Chinese number parsed.
    import importlib
    import sys

    sys.modules.pop("actions.guidance.quantities", None)
    sys.modules.pop("cn2an", None)
    importlib.import_module("actions.guidance.quantities")
    assert "cn2an" not in sys.modules
    assert q.parse_money("四万三") == 43000
