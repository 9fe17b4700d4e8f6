"""Money amounts, durations and their classification (chinese_text.quantities)."""

from __future__ import annotations

import random

import pytest

from chinese_text import quantities as q
from chinese_text.quantities import (
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
        "",
        "   ",
        "几万",
        "五六千",
        "三四万",
        "万",
        "千万",
        "万一",
        "一二三",
        "abc",
        "4,30",
        "1.2.3",
        "四万三千五百六十七八",
        "😀",
        "钱",
        "很多",
        "99999999999999",
        "-500",
        None,
        4300,
        b"4300",
        ["4300"],
        "一" * 100,
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
        ("工资3000房租1000生活费800", [(MONTHLY_INCOME, 3000), (MONTHLY_EXPENSE, 1000), (MONTHLY_EXPENSE, 800)]),
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


@pytest.mark.parametrize(
    "text, expected",
    [
        # the normaliser turns "，" into ","; a number right after it is still read
        ("招行五万,三个月没还了", [(AMOUNT, 50000), (OVERDUE_DURATION, 90)]),
        ("三万是招行的,两万是浦发的", [(AMOUNT, 30000), (AMOUNT, 20000)]),
        ("三万是招行的，两万是浦发的", [(AMOUNT, 30000), (AMOUNT, 20000)]),
        ("1.2.3", []),
        ("版本1.300", []),
    ],
)
def test_numbers_after_a_comma(text, expected):
    assert _pairs(text) == expected


def test_installment_period_is_not_overdue_duration():
    assert _pairs("欠浦发一万二，能不能分两年还") == [(AMOUNT, 12000)]


def test_blocked_spans_are_skipped():
    text = "360借条欠了两千"
    assert (AMOUNT, 2000) in _pairs(text)
    assert _pairs(text, blocked=[(0, 5)]) == [(AMOUNT, 2000)]


def test_offsets_point_at_the_number():
    text = "我每个月工资六千，房租两千块"
    found = extract_quantities(text)
    assert [text[e["start"] : e["end"]] for e in found] == ["六千", "两千块"]


@pytest.mark.parametrize(
    "junk",
    [
        None,
        42,
        4.3,
        b"\xff\xfe",
        ["四万三"],
        {"a": 1},
        "",
        " ",
        "\x00\x01\x02\x1b[31m",
        "😀😀😀 欠了💰💰",
        "欠了" + "9" * 5000,
        "四万三" * 3000,
        "一" * 10_000,
        "万" * 10_000,
        "\u202e四万三\u200b",
        "欠了\ud800两万",
        "🤬" * 10_000,
        "１２３４５６７８９０" * 1000,
        "4,3,0,0",
        ",,,,",
        "....",
        "w" * 1000,
        "5" + "w" * 500,
        "第" * 10_000,
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

    sys.modules.pop("chinese_text.quantities", None)
    sys.modules.pop("cn2an", None)
    importlib.import_module("chinese_text.quantities")
    assert "cn2an" not in sys.modules
    assert q.parse_money("四万三") == 43000


# --------------------------------------------------------------------------- #
# Long messages: repayments, limits, net loans, durations that are not overdue


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我欠了十二万，每个月只能还两千", [(AMOUNT, 120000)]),
        ("每个月只能还一千左右，银行会同意分期吗", []),
        ("浦发欠了六万，上个月还了一万，现在还欠五万", [(AMOUNT, 60000), (AMOUNT, 50000)]),
        ("额度五万，已经刷了四万八", [(AMOUNT, 48000)]),
        ("额度五万", [(AMOUNT, 50000)]),  # alone it may answer a question about the card
        ("借了三千到手只有两千一，七天就要还四千五", [(AMOUNT, 3000), (AMOUNT, 4500)]),
        (
            "每月工资六千，房租一千五，欠了三张卡一共十二万",
            [(MONTHLY_INCOME, 6000), (MONTHLY_EXPENSE, 1500), (AMOUNT, 120000)],
        ),
        ("在上海工作三年了，欠了招行四万多，逾期两个月", [(AMOUNT, 40000), (OVERDUE_DURATION, 60)]),
        ("老板三个月没发工资了，信用卡逾期四十多天", [(OVERDUE_DURATION, 40)]),
        ("说好一年还，现在两年了还没还", [(OVERDUE_DURATION, 730)]),
        ("失业半年了，信用卡也逾期了三个月", [(OVERDUE_DURATION, 90)]),
        ("失业后逾期了半年", [(OVERDUE_DURATION, 180)]),
        ("疫情关了一年，现在逾期三个月了", [(OVERDUE_DURATION, 90)]),
        ("七天后要还两千", [(AMOUNT, 2000)]),
        ("我今年六十八了，退休金两千八", [(MONTHLY_INCOME, 2800)]),
        ("欠了两万多台币", [(AMOUNT, 20000)]),
        ("欠了八万港币", [(AMOUNT, 80000)]),
        ("借一万砍头息两千", [(AMOUNT, 10000)]),
        (
            "每个月房贷四千，车贷两千，工资一万，信用卡欠了六万",
            [(MONTHLY_EXPENSE, 4000), (MONTHLY_EXPENSE, 2000), (MONTHLY_INCOME, 10000), (AMOUNT, 60000)],
        ),
        (
            "我是送外卖的，一个月到手六千五，房租一千二，花呗欠了三千多",
            [(MONTHLY_INCOME, 6500), (MONTHLY_EXPENSE, 1200), (AMOUNT, 3000)],
        ),
        ("退休了，每月退休金三千二，儿子借了八万跑路了", [(MONTHLY_INCOME, 3200), (AMOUNT, 80000)]),
        # the month of a rate, with words in between
        ("一个月辛辛苦苦也就挣五千", [(MONTHLY_INCOME, 5000)]),
        ("逾期一个月了，工资五千", [(OVERDUE_DURATION, 30), (MONTHLY_INCOME, 5000)]),
        ("拖了三个月，花了两千", [(OVERDUE_DURATION, 90), (MONTHLY_EXPENSE, 2000)]),
    ],
)
def test_extract_quantities_long_messages(text, expected):
    assert _pairs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "去杭州玩三天怎么安排",
        "征信五年是从什么时候开始算",
        "一个月上门几次算正常",
        "在工厂做了五年",
        "我已经向12378投诉了,一个星期没回音",
        "我是外卖骑手,一个月四五千,不固定",
    ],
)
def test_durations_that_are_not_overdue(text):
    assert [p for p in _pairs(text) if p[0] == OVERDUE_DURATION] == []


def test_duration_words_hidden_by_other_entities_still_count():
    # "上门" is a behavior span (blocked), yet it still says the month is a rate
    text = "一个月上门几次算正常"
    assert _pairs(text, blocked=[(3, 5)]) == []


def test_amounts_carry_kind_and_currency():
    found = extract_quantities("一共欠了十二万，大概新台币五十万")
    assert [(f["kind"], f["currency"]) for f in found] == [(q.TOTAL, "CNY"), (q.DEBT, "TWD")]


# --------------------------------------------------------------------------- #
# debt_kind


@pytest.mark.parametrize(
    "text, number, kind",
    [
        ("欠了五万", "五万", q.DEBT),
        ("招行三万", "三万", q.DEBT),
        ("一共欠了十二万", "十二万", q.TOTAL),
        ("加起来二十多万", "二十多万", q.TOTAL),
        ("欠款总额是八万", "八万", q.TOTAL),
        ("上个月还了一万", "一万", q.REPAID),
        ("每个月要还三千", "三千", q.REPAID),
        ("能不能先还两千", "两千", q.REPAID),
        ("最低还款一千二", "一千二", q.REPAID),
        ("现在还欠四万", "四万", q.REMAINING),
        ("还剩两万", "两万", q.REMAINING),
        ("七天就要还四千五", "四千五", q.REMAINING),
        ("本金六万", "六万", q.PRINCIPAL),
        ("额度五万", "五万", q.LIMIT),
    ],
)
def test_debt_kind(text, number, kind):
    assert q.debt_kind(text, text.index(number)) == kind


def test_debt_kind_stops_at_the_lender():
    text = "网贷还有三万"
    assert q.debt_kind(text, 4) == q.REMAINING
    text = "还有泰隆银行十五万"
    assert q.debt_kind(text, 6) == q.REMAINING
    assert q.debt_kind(text, 6, cut=6) == q.DEBT


# --------------------------------------------------------------------------- #
# summarise_debts


def _lenders(text, names):
    return [(text.index(n), text.index(n) + len(n), n) for n in names]


def _summary(text, lenders=(), generic=()):
    named = _lenders(text, lenders)
    # lender names are blocked, as the entity extractor does ("花呗" is no 花 spending)
    amounts = [f for f in extract_quantities(text, blocked=[(s, e) for s, e, _ in named]) if f["entity"] == AMOUNT]
    return q.summarise_debts(text, amounts, named, [(text.index(w), text.index(w) + len(w), t) for w, t in generic])


@pytest.mark.parametrize(
    "text, lenders, generic, expected",
    [
        (
            "招行3万，浦发2万5，花呗八千",
            ["招行", "浦发", "花呗"],
            [],
            {"amount_parts": [30000, 25000, 8000], "amount_total": 63000},
        ),
        (
            "欠了建行三万、农行一万五，总共四万五",
            ["建行", "农行"],
            [],
            {"amount_parts": [30000, 15000], "amount_total": 45000},
        ),
        ("招行欠了五万，还了一万，还欠四万", ["招行"], [], {}),
        ("欠了五万，现在还剩四万", [], [], {}),
        ("欠了五万多，大概五万三", [], [], {}),
        ("一张卡三万，另一张两万", [], [], {"amount_parts": [30000, 20000], "amount_total": 50000}),
        ("欠了五万，又借了两万", [], [], {"amount_parts": [50000, 20000], "amount_total": 70000}),
        ("三万是招行的，两万是浦发的", ["招行", "浦发"], [], {"amount_parts": [30000, 20000], "amount_total": 50000}),
        (
            "一共欠了十二万，其中招行五万，浦发七万",
            ["招行", "浦发"],
            [],
            {"amount_parts": [50000, 70000], "amount_total": 120000},
        ),
        ("欠了五万，招行三万浦发两万", ["招行", "浦发"], [], {"amount_parts": [30000, 20000], "amount_total": 50000}),
        (
            "信用卡一共欠了八万，网贷一共三万",
            [],
            [("信用卡", "credit_card"), ("网贷", "online_lending")],
            {"amount_parts": [80000, 30000], "amount_total": 110000},
        ),
        ("欠了三张卡一共十二万", [], [("张卡", "credit_card")], {}),
        ("招行三万，额度五万", ["招行"], [], {}),
        ("招行三万，浦发额度五万", ["招行", "浦发"], [], {}),
        ("招行两万，台新三十万台币", ["招行", "台新"], [], {}),
        ("欠了两万，利息三千", [], [], {}),
        ("工资六千，房租一千五，欠了八万", [], [], {}),
    ],
)
def test_summarise_debts(text, lenders, generic, expected):
    assert _summary(text, lenders, generic) == expected


def test_summarise_debts_same_value_twice_is_two_debts():
    text = "招行三万，浦发三万"
    assert _summary(text, ["招行", "浦发"]) == {"amount_parts": [30000, 30000], "amount_total": 60000}


@pytest.mark.parametrize("junk", [None, 42, "", "招行三万"])
def test_summarise_debts_junk(junk):
    assert q.summarise_debts(junk, [{"start": "x"}], [(0, 1)]) == {}
    assert q.summarise_debts(junk, []) == {}
