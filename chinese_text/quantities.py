"""Money and duration quantities in Chinese user messages.

Pure functions, no Rasa import, nothing done at import time except compiling a
few regular expressions. Every public function accepts any object and returns
``None`` / ``[]`` for junk instead of raising.

* :func:`parse_money` -- "四万三" -> 43000, "4.3w" -> 43000, "2万5" -> 25000,
  "4,300" -> 4300, "4300多" -> 4300, "两万块" -> 20000 (integer yuan).
* :func:`parse_duration` -- "三个月" -> 90, "半年" -> 180, "一年半" -> 545,
  "两周" -> 14, "3个多月" -> 90 (integer days; month = 30, year = 365).
* :func:`classify_money` -- from the words in front of (or right after) a
  number: ``amount`` (欠/欠款/透支/本金/额度/还/总共/一共 ...),
  ``monthly_income`` (工资/收入/月薪/挣/赚/到手 ...) or ``monthly_expense``
  (房租/生活费/开销/花销/支出/开支/花 ...); ``None`` for fees and interest.
* :func:`extract_quantities` -- all of the above over a whole message, returning
  Rasa-style entity dicts (entity, value, start, end; amounts also have a
  ``kind``: debt, total, remaining, principal or limit). Repayments ("还了一万",
  "每月还两千") are not the debt and are left out.
* :func:`summarise_debts` -- several debt amounts of one message, one per lender
  ("招行3万，浦发2万5，花呗八千"), added up: ``amount_parts`` and ``amount_total``.

The input is expected to be Simplified Chinese with half-width digits (the
pipeline's normaliser runs first); full-width digits/letters are tolerated.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

__all__ = [
    "AMOUNT",
    "MONTHLY_INCOME",
    "MONTHLY_EXPENSE",
    "OVERDUE_DURATION",
    "parse_money",
    "parse_duration",
    "classify_money",
    "extract_quantities",
    "debt_kind",
    "summarise_debts",
    "warm_up",
]

AMOUNT = "amount"
MONTHLY_INCOME = "monthly_income"
MONTHLY_EXPENSE = "monthly_expense"
OVERDUE_DURATION = "overdue_duration"

# What an `amount` number is, for adding debts up (debt_kind).
DEBT = "debt"
TOTAL = "total"
REMAINING = "remaining"
PRINCIPAL = "principal"
LIMIT = "limit"
REPAID = "repaid"

# Anything larger is not an amount a person owes or earns (10 billion yuan).
MAX_YUAN = 10_000_000_000
MAX_DAYS = 36_500
# Longer strings are never a single quantity.
_MAX_EXPR_LEN = 40

_CN_DIGITS = "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖"
_CN_UNITS = "十百千万亿拾佰仟"
_ARABIC = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?"
# A number: groups of digits (Arabic, or Chinese with 十 and 点 as decimal
# point: 一点五) separated by magnitude units and w/W (万), k/K (千) suffixes:
# 四万三, 2万5, 4.3w, 三千五百, 二十万零五百. It never starts with a unit, so
# 千万 ("by all means") and 万一 ("in case") are not numbers; "3500一个月"
# stops before 一.
_CN_GROUP = rf"[{_CN_DIGITS}十拾]+(?:点[{_CN_DIGITS}]+)?"
_UNIT_RUN = rf"(?:[{_CN_UNITS}]|[wWkK](?![A-Za-z]))+"
_NUM = (
    rf"(?:{_ARABIC}|{_CN_GROUP})"
    rf"(?:{_UNIT_RUN}(?:{_ARABIC}|{_CN_GROUP})?)*"
)
_NUM_RE = re.compile(_NUM)
_NUM_FULL_RE = re.compile(rf"(?:{_NUM})")

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20

_APPROX_PREFIX_RE = re.compile(
    r"^(?:大概|大约|大致|约莫|约|差不多|将近|接近|快要|快|近|有|才|总共|一共|共计|共|合计|"
    r"人民币|[¥￥]|rmb)",
    re.IGNORECASE,
)
_MONEY_SUFFIX_RE = re.compile(
    r"(?:左右|上下|出头|不到|多点|多一点|整|多|来|余|块钱|元钱|元|块|圆|人民币|rmb|的样子)$",
    re.IGNORECASE,
)
_COLLOQUIAL_TAIL_RE = re.compile(rf"^(.*?)([万千百亿])([0-9{_CN_DIGITS}])$")
_NEXT_LOWER_UNIT = {"亿": "千万", "万": "千", "千": "百", "百": "十"}
_PURE_ARABIC_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_THOUSANDS_RE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_MAGNITUDE_CHARS = set("十百千万亿拾佰仟")


def warm_up() -> None:
    """Import cn2an now (its dictionaries and ~300 regular expressions, ~2 s).

    Called when a server starts, so that the cost is not paid inside the first
    user message that contains a number.
    """
    import cn2an  # noqa: F401


def _clean(text: Any) -> Optional[str]:
    if not isinstance(text, str):
        return None
    s = text.translate(_FULLWIDTH).strip()
    if not s or len(s) > _MAX_EXPR_LEN:
        return None
    return s.replace(" ", "")


_CN_DIGIT_VALUE = {c: str(i) for i, c in enumerate("零一二三四五六七八九")}
_CN_DIGIT_VALUE.update(
    {
        "〇": "0",
        "两": "2",
        "壹": "1",
        "贰": "2",
        "叁": "3",
        "肆": "4",
        "伍": "5",
        "陆": "6",
        "柒": "7",
        "捌": "8",
        "玖": "9",
    }
)
_CN_DECIMAL_RE = re.compile(rf"([0-9]+|[{_CN_DIGITS}十拾]+)点([0-9]+|[{_CN_DIGITS}]+)")


def _cn_decimal_to_arabic(m: "re.Match[str]") -> str:
    """一点五 -> 1.5 (cn2an does not read 点 inside a larger number)."""
    whole, frac = m.group(1), m.group(2)
    if not whole.isdigit():
        whole_value = _small_cn_int(whole)
        if whole_value is None:
            return m.group(0)
        whole = str(whole_value)
    if not frac.isdigit():
        frac = "".join(_CN_DIGIT_VALUE.get(c, "?") for c in frac)
        if "?" in frac:
            return m.group(0)
    return f"{whole}.{frac}"


def _small_cn_int(s: str) -> Optional[int]:
    try:
        import cn2an

        value = cn2an.cn2an(s, "smart")
        return int(value) if float(value) == int(value) else None
    except Exception:
        return None


def _number_to_int(s: str, allow_fraction: bool = True) -> Optional[int]:
    """Parse a bare number expression (no currency, no qualifier) to an int."""
    if not s or "几" in s or len(s) > _MAX_EXPR_LEN:
        return None
    s = s.replace("w", "万").replace("W", "万").replace("k", "千").replace("K", "千")
    if "点" in s:
        s = _CN_DECIMAL_RE.sub(_cn_decimal_to_arabic, s)
        if "点" in s:
            return None
    if "," in s:
        if not _THOUSANDS_RE.fullmatch(s):
            return None
        s = s.replace(",", "")
    if _PURE_ARABIC_RE.fullmatch(s):
        value = float(s)
    else:
        if not _NUM_FULL_RE.fullmatch(s) and not re.fullmatch(rf"[0-9.{_CN_DIGITS}{_CN_UNITS}]+", s):
            return None
        # "一二三" is a digit string, not an amount; "二〇二三" likewise.
        if not any(c in _MAGNITUDE_CHARS for c in s) and len(s) > 1 and not s.isdigit():
            return None
        # Colloquial "X万Y" means X.Y万 (四万三 = 43000, 2万5 = 25000).
        m = _COLLOQUIAL_TAIL_RE.match(s)
        if m and m.group(1) and m.group(1)[-1] not in "零〇":
            s = f"{m.group(1)}{m.group(2)}{m.group(3)}{_NEXT_LOWER_UNIT[m.group(2)]}"
        try:
            import warnings

            import cn2an  # local import: keeps module import free of work

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = cn2an.cn2an(s, "smart")
        except Exception:  # cn2an raises ValueError and friends on junk
            return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if value != value or value < 0 or value > MAX_YUAN:  # NaN / negative / huge
        return None
    if not allow_fraction and value != int(value):
        return None
    return int(round(value))


def parse_money(text: Any) -> Optional[int]:
    """Parse a money expression to integer yuan, or ``None``.

    >>> parse_money("四万三"), parse_money("4.3w"), parse_money("2万5")
    (43000, 43000, 25000)
    >>> parse_money("4300多"), parse_money("两万块"), parse_money("4,300")
    (4300, 20000, 4300)

    Ranges ("五六千", "三四万") and vague amounts ("几万") give ``None``.
    """
    try:
        s = _clean(text)
        if s is None:
            return None
        for _ in range(4):  # strip approximators / currency words, both ends
            before = s
            s = _APPROX_PREFIX_RE.sub("", s)
            s = _MONEY_SUFFIX_RE.sub("", s)
            if s == before:
                break
        s = _QUALIFIED_MAGNITUDE_SUB_RE.sub("", s)
        if not s or not _NUM_FULL_RE.fullmatch(s):
            return None
        return _number_to_int(s)
    except Exception:  # never raise on junk
        return None


_DAYS_PER_UNIT = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "月": 30, "年": 365}
_HALF_UNIT = {"天": 0, "日": 0, "周": 3, "星期": 3, "礼拜": 3, "月": 15, "年": 180}
_DURATION_RE = re.compile(
    rf"(?P<num>{_NUM})(?P<more>多|来)?(?P<ge>个)?(?P<half>半|多)?"
    r"(?P<unit>天|周|星期|礼拜|月|年)(?P<tail>半|多)?"
)
_HALF_DURATION_RE = re.compile(r"半(?P<ge>个)?(?P<unit>月|年|天|星期|礼拜)")
_DURATION_PREFIX_RE = re.compile(r"^(?:大概|大约|差不多|将近|快|已经|有|都|了)+")
_DURATION_SUFFIX_RE = re.compile(r"(?:左右|上下|了|的样子|多了)+$")


def _duration_days(m: "re.Match[str]") -> Optional[int]:
    unit = m.group("unit")
    if m.group(0).startswith("半"):
        if unit == "月" or unit == "年":
            return _HALF_UNIT[unit]
        if unit in ("星期", "礼拜"):
            return 3
        return None
    if unit == "月" and not m.group("ge"):
        return None  # "三月" is March, "三个月" is a duration
    if m.group("ge") and unit in ("天", "年"):
        return None  # "三个天" / "三个年" are not Chinese
    num = _number_to_int(m.group("num"), allow_fraction=True)
    if num is None:
        return None
    days = num * _DAYS_PER_UNIT[unit]
    if m.group("half") == "半" or m.group("tail") == "半":
        if m.group("half") == "半" and m.group("tail") == "半":
            return None
        days += _HALF_UNIT[unit]
    if days > MAX_DAYS:
        return None
    return days


def parse_duration(text: Any) -> Optional[int]:
    """Parse a duration to integer days, or ``None``.

    >>> [parse_duration(s) for s in ["三个月", "半年", "一年半", "两周", "3个多月"]]
    [90, 180, 545, 14, 90]

    Months need 个 ("三月" is March). Vague durations ("几个月") give ``None``.
    """
    try:
        s = _clean(text)
        if s is None:
            return None
        s = _DURATION_PREFIX_RE.sub("", s)
        s = _DURATION_SUFFIX_RE.sub("", s)
        m = _DURATION_RE.fullmatch(s) or _HALF_DURATION_RE.fullmatch(s)
        if not m:
            return None
        return _duration_days(m)
    except Exception:
        return None


# --------------------------------------------------------------------------- #
# Classification of a money number by the words around it.

_KEYWORDS: Dict[Optional[str], Tuple[str, ...]] = {
    AMOUNT: (
        "欠款",
        "欠了",
        "欠着",
        "欠",
        "透支",
        "本金",
        "额度",
        "还款",
        "还了",
        "还剩",
        "还有",
        "还",
        "总共",
        "一共",
        "共计",
        "合计",
        "总额",
        "借了",
        "借款",
        "借",
        "贷款",
        "贷了",
        "负债",
        "债务",
        "账单",
        "待还",
        "应还",
        "未还",
        "逾期金额",
        "刷了",
        "刷爆",
        "本息",
        "卡债",
        "网贷",
    ),
    MONTHLY_INCOME: (
        "工资",
        "收入",
        "月薪",
        "薪水",
        "薪资",
        "底薪",
        "挣",
        "赚",
        "到手",
        "月入",
        "税后",
        "退休金",
        "养老金",
        "拿到",
        "能拿",
    ),
    MONTHLY_EXPENSE: (
        "房租",
        "租房",
        "月租",
        "生活费",
        "开销",
        "花销",
        "支出",
        "开支",
        "花费",
        "花掉",
        "花",
        "房贷",
        "车贷",
        "月供",
        "租金",
        "伙食费",
        "吃饭",
        "水电",
        "学费",
        "抚养费",
        "赡养费",
        "医药费",
        "话费",
        "交通费",
        "养孩子",
    ),
    # Fees and interest are not the debt, the income or the spending.
    None: (
        "利息",
        "违约金",
        "罚息",
        "滞纳金",
        "手续费",
        "年费",
        "上门费",
        "服务费",
        "保证金",
        "分期费",
        "管理费",
        "砍头息",
        "砍头费",
        "中介费",
        "押金",
        "会员费",
        "评估费",
        "担保费",
        "咨询费",
        "催收费",
        "逾期费",
    ),
}
_KEYWORD_RE = re.compile(
    "|".join(
        sorted(
            (re.escape(k) for ks in _KEYWORDS.values() for k in ks),
            key=len,
            reverse=True,
        )
    )
)
_KEYWORD_LABEL = {k: label for label, ks in _KEYWORDS.items() for k in ks}
_CLAUSE_BREAK = set("，。,.;；!！?？\n\r\t、:：()（）[]【】")
# Income words that also name what a loan paid out after fees ("到手两千一").
_NET_LOAN_WORDS = ("到手", "拿到", "能拿")
_BORROW_RE = re.compile(r"借|贷|下款|放款")
_LEFT_WINDOW = 12
_WIDE_WINDOW = 16
_RIGHT_WINDOW = 4


def _nearest_keyword(window: str) -> Optional[str]:
    best = None
    for m in _KEYWORD_RE.finditer(window):
        if best is None or m.end() > best.end() or (m.end() == best.end() and len(m.group()) > len(best.group())):
            best = m
    return best.group() if best is not None else None


def _left_context(text: str, start: int, floor: int) -> str:
    lo = max(floor, start - _LEFT_WINDOW, 0)
    i = start
    while i > lo and text[i - 1] not in _CLAUSE_BREAK:
        i -= 1
    return text[i:start]


def classify_money(text: Any, start: int, end: int, floor: int = 0) -> Optional[str]:
    """Label the money number at ``text[start:end]`` from the words around it.

    The nearest keyword on the left within the clause wins (never looking back
    past ``floor``, the end of the previous number); if there is none, a keyword
    right after the number ("四万三的欠款", "三千房租"). Without any keyword the
    number is taken as the debt ``amount`` -- what a bare "5w" answers in a form.
    Returns ``None`` for fees/interest ("利息三千").
    """
    try:
        if not isinstance(text, str) or not (0 <= start < end <= len(text)):
            return None
        best = _nearest_keyword(_left_context(text, start, floor))
        if best is None:
            # "收入不固定，平均五千多": the keyword may sit in the previous
            # clause, as long as no other number came in between.
            best = _nearest_keyword(text[max(floor, start - _WIDE_WINDOW, 0) : start])
        if best is not None:
            if best in _NET_LOAN_WORDS and _BORROW_RE.search(_left_context(text, start, 0)):
                return None  # "借了三千到手两千一": what the lender paid out
            return _KEYWORD_LABEL[best]
        right = text[end : end + _RIGHT_WINDOW + 3]
        m = re.match(r"(?:多|来|余)?(?:块钱|元钱|块|元)?(?:的)?", right)
        right = right[m.end() if m else 0 :]
        m = _KEYWORD_RE.match(right)
        if m:
            return _KEYWORD_LABEL[m.group()]
        return AMOUNT
    except Exception:
        return None


# --------------------------------------------------------------------------- #
# Whole-message extraction.

# Idioms that contain a number + unit but no quantity.
_IDIOMS = (
    "三天两头",
    "一天到晚",
    "一年到头",
    "十万火急",
    "一年四季",
    "一天天",
    "十年如一日",
    "三年五载",
    "一时半会",
    "一天一夜",
    "两天两夜",
    "千万",
    "万一",
    "一五一十",
)
_IDIOM_RE = re.compile("|".join(map(re.escape, _IDIOMS)))
_MONEY_UNIT_RE = re.compile(r"(?:多|来|余)?(?:块钱|元钱|块|元|圆|人民币|rmb|新台币|台币|港币|港元|港纸)", re.IGNORECASE)
_QUALIFIER_RE = re.compile(r"(?:多|来|余)")
# "二十多万", "三百来万": a qualifier between a number and its magnitude; the
# amount is read as the round number (200000), never as the bare 二十.
_QUALIFIED_MAGNITUDE_RE = re.compile(r"(?:多|来|余)(?P<mag>[万亿])")
_QUALIFIED_MAGNITUDE_SUB_RE = re.compile(rf"(?<=[0-9{_CN_DIGITS}十拾百佰千仟])(?:多|来|余)(?=[万亿])")
# A following character that makes the number something else than money
# (counter words, time of day, percentages, dates, ages ...).
_NOT_MONEY_NEXT = set(
    "个次点号岁期张家条人位层楼分秒倍成折遍通下台部辆件套间栋米斤克吨度%℃级届代名项笔起户天周月年日时几"
)
_NOT_BEFORE = set("第星期周礼拜初")
_DURATION_BAD_PREV = set("每这那前过再第头后隔上下同分")
_DURATION_BAD_NEXT = (
    "前",
    "后",
    "内",
    "以内",
    "之内",
    "以后",
    "之后",
    "以前",
    "之前",
    "打",
    "发",
    "次",
    "几",
    "级",
    "底",
    "初",
    "份",
    "一次",
    "一个",
    "最多",
    "最少",
    "至少",
    "能",
    "可以",
    "可",
    "不还",
    "上门",
    "多少",
)
# "没有收入" answers the income question with 0.
_NO_INCOME_RE = re.compile(r"(?:没有|没|无|零)(?:任何)?(?:收入|工资|工作收入)(?!证明)")
# Filler allowed around a bare number that answers a form question ("4300多").
_ANSWER_FILLER_RE = re.compile(
    r"[\s,.!?;:，。！？；：、~～…\u25a1]|大概|大约|差不多|将近|左右|上下|多|吧|啊|呀|呢|嗯|的样子|是|有|我|元|块|钱"
)
_MASK = "\u25a1"  # □


def _mask(text: str, spans: Iterable[Tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        for i in range(max(0, s), min(len(chars), e)):
            chars[i] = _MASK
    return "".join(chars)


def extract_quantities(text: Any, blocked: Iterable[Tuple[int, int]] = ()) -> List[Dict[str, Any]]:
    """Find money amounts (typed by context) and overdue durations in ``text``.

    ``blocked`` are character spans already claimed by other entities (for
    example "360借条" or "晚上十一点"); numbers inside them are ignored.
    Returns a list of ``{"entity", "value", "start", "end"}`` dicts in text
    order. Never raises.
    """
    try:
        if not isinstance(text, str) or not text:
            return []
        text = text.translate(_FULLWIDTH)
        spans = [(int(s), int(e)) for s, e in blocked]
        spans += [m.span() for m in _IDIOM_RE.finditer(text)]
        masked = _mask(text, spans)
        found = _extract(masked, text)
        if not any(f["entity"] == MONTHLY_INCOME for f in found):
            m = _NO_INCOME_RE.search(masked)
            if m:
                found.append({"entity": MONTHLY_INCOME, "value": 0, "start": m.start(), "end": m.end()})
                found.sort(key=lambda f: f["start"])
        return found
    except Exception:
        return []


def _extract(masked: str, text: str) -> List[Dict[str, Any]]:
    """``masked`` has the blocked spans masked; ``text`` is what the user wrote."""
    found: List[Dict[str, Any]] = []
    candidates = []  # (kind, start, end, value)
    pos = 0
    n = len(masked)
    while pos < n:
        m = _NUM_RE.search(masked, pos)
        if not m:
            break
        start, end = m.span()
        pos = end
        prev = masked[start - 1] if start > 0 else ""
        if prev and (prev.isascii() and prev.isalnum() or prev in ".," and start >= 2 and masked[start - 2].isdigit()):
            continue  # part of a code, phone or version string ("1.2.3"), not after a comma
        num = m.group()
        # Durations: "三个月", "一年半", "3个多月", "两周", "20天".
        d = _DURATION_RE.match(masked, start)
        if d and d.start("num") == start and d.end("num") == end:
            days = _duration_days(d)
            if days is not None and _duration_ok(text, start, d.end(), prev):
                candidates.append((OVERDUE_DURATION, start, d.end(), days))
            pos = d.end()
            continue
        if prev in _NOT_BEFORE:
            continue
        qm = _QUALIFIED_MAGNITUDE_RE.match(masked, end)
        if qm and num[-1] not in "万亿":
            num, end = num + qm.group("mag"), qm.end()
        after = masked[end:]
        unit = _MONEY_UNIT_RE.match(after)
        q = _QUALIFIER_RE.match(after)
        nxt_at = end + (q.end() if q else 0)
        nxt = masked[nxt_at] if nxt_at < n else ""
        if unit:
            span_end = end + unit.end()
        else:
            if nxt and (nxt in _NOT_MONEY_NEXT or (nxt.isascii() and nxt.isalpha())):
                continue
            has_magnitude = any(c in "十百千万亿拾佰仟wWkK" for c in num)
            is_arabic = bool(_PURE_ARABIC_RE.fullmatch(num.replace(",", "")))
            if not has_magnitude and not is_arabic:
                continue  # bare 一/三: "一直", "七大姑"
            span_end = nxt_at
        value = _number_to_int(num)
        if value is None:
            continue
        bare = not unit and not any(c in "十百千万亿拾佰仟wWkK" for c in num)
        if not unit and value < 100:
            continue  # a small number without 元/块 is not money ("今年六十八了")
        candidates.append(("money" if not bare else "bare", start, span_end, value))
    # Half durations without a leading number: "半年", "半个月".
    for h in _HALF_DURATION_RE.finditer(masked):
        s, e = h.span()
        if any(c[1] < e and s < c[2] for c in candidates):
            continue
        prev = masked[s - 1] if s > 0 else ""
        if prev and (prev in _CN_DIGITS or prev in "个多"):
            continue
        days = _duration_days(h)
        if days is not None and _duration_ok(text, s, e, prev):
            candidates.append((OVERDUE_DURATION, s, e, days))
    candidates.sort(key=lambda c: c[1])

    floor = 0
    for kind, s, e, value in candidates:
        if kind == OVERDUE_DURATION:
            # "一个月挣五千", "生活费一个月1500": the period of a rate, not an
            # overdue time; it does not end the money's context either.
            if _money_follows(candidates, e, masked):
                continue
            found.append({"entity": kind, "value": value, "start": s, "end": e})
        elif kind == "bare" and not _has_keyword(masked, s, floor) and not _answer_only(masked, s, e):
            # "打12378投诉": a bare number is money only with a money word
            # around it, or as the whole answer to a form question ("4300多").
            pass
        else:
            label = classify_money(masked, s, e, floor)
            if label == AMOUNT:
                found.append(
                    {
                        "entity": label,
                        "value": value,
                        "start": s,
                        "end": e,
                        "kind": debt_kind(masked, s, floor),
                        "currency": _currency(masked, s, e),
                    }
                )
            elif label is not None:
                found.append({"entity": label, "value": value, "start": s, "end": e})
        floor = e
    return _owed_only(found)


_CURRENCIES = (("新台币", "TWD"), ("台币", "TWD"), ("港币", "HKD"), ("港元", "HKD"), ("港纸", "HKD"))


def _currency(text: str, start: int, end: int) -> str:
    """CNY unless 台币/港币 is written right before or after the number."""
    before, after = text[max(0, start - 3) : start], text[end - 2 : end + 3]
    for word, code in _CURRENCIES:
        if before.endswith(word) or word in after:
            return code
    return "CNY"


def _owed_only(found: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Drop repayments ("还了一万", "每月只能还一千"), and a credit limit when
    the debt itself is also given ("额度五万，刷了四万八")."""
    kept = [f for f in found if f.get("kind") != REPAID]
    if any(f.get("kind") not in (None, LIMIT) for f in kept if f["entity"] == AMOUNT):
        kept = [f for f in kept if f.get("kind") != LIMIT]
    return kept


def _has_keyword(masked: str, start: int, floor: int) -> bool:
    left = masked[max(floor, start - _LEFT_WINDOW, 0) : start]
    return _KEYWORD_RE.search(left) is not None


def _answer_only(masked: str, start: int, end: int) -> bool:
    rest = masked[:start] + " " + masked[end:]
    return _ANSWER_FILLER_RE.sub("", rest).strip() == ""


_DURATION_BAD_PREV_WORDS = ("还有", "还剩", "剩下", "再过", "需要", "要等")
# A duration in a clause about work, school, wages or illness is not how long
# the debt is overdue ("在上海工作三年了", "包工头拖欠工资半年了"), unless the
# clause says so ("失业后逾期了半年").
_NOT_OVERDUE_CONTEXT_RE = re.compile(
    r"工作|上班|打工|干活|念书|读书|上学|住院|结婚|失业|生病|工资|认识|来了|待了|呆了|玩|旅游|出差|放假|请假|"
    r"征信|保留|记录|关门|关了|停业|歇业|倒闭|疫情|住了|干了|做了|厂|投诉|回音|回复|答复|等了"
)
_OVERDUE_WORDS_RE = re.compile(r"逾期|没还|未还|还不上|断供|停还|拖欠(?!工资)")
# A term agreed on is not an overdue time: "说好一年还", "约定三个月还清".
_TERM_WORDS_RE = re.compile(r"(?:说好|约定|约好|讲好|答应|期限|借期)$")
_TERM_NEXT = ("就要", "要还", "还清", "还完", "就得", "内还", "后还")


def _duration_ok(text: str, start: int, end: int, prev: str) -> bool:
    """Whether the duration at ``text[start:end]`` is how long a debt is overdue."""
    if prev in _DURATION_BAD_PREV:
        return False
    if text[max(0, start - 2) : start] in _DURATION_BAD_PREV_WORDS:
        return False  # "还有两年才消": time remaining, not time overdue
    after = text[end : end + 3]
    if any(after.startswith(w) for w in _DURATION_BAD_NEXT + _TERM_NEXT):
        return False
    clause = _left_context(text, start, 0)
    if _TERM_WORDS_RE.search(clause):
        return False
    # the whole clause: "老板三个月没发工资了"
    lo, hi = _clause_of(text, start)
    clause = text[max(lo, start - _LEFT_WINDOW) : min(hi, end + _LEFT_WINDOW)]
    if _NOT_OVERDUE_CONTEXT_RE.search(clause) and not _OVERDUE_WORDS_RE.search(clause):
        return False
    return True


_RATE_WORDS_RE = re.compile(
    "|".join(
        sorted(
            [re.escape(k) for k in _KEYWORDS[MONTHLY_INCOME] + _KEYWORDS[MONTHLY_EXPENSE]]
            + [
                "还",
                "交",
                "付",
                "拿",
                "能",
                "要",
                "得",
                "的",
                "是",
                "大概",
                "大约",
                "差不多",
                "约",
                "有",
                "就",
                "才",
                "只",
                "最多",
                "最少",
                "至少",
            ],
            key=len,
            reverse=True,
        )
    )
)


_EARN_SPEND_RE = re.compile(
    "|".join(sorted(map(re.escape, _KEYWORDS[MONTHLY_INCOME] + _KEYWORDS[MONTHLY_EXPENSE]), key=len, reverse=True))
)


def _money_follows(candidates: List[Tuple[str, int, int, int]], end: int, masked: str) -> bool:
    """True when a duration is the period of a rate: "一个月挣五千", "一个月两千"."""
    nxt = masked[end : end + 1]
    if nxt and (nxt in _CN_DIGITS or nxt.isdigit()):
        return True  # "一个月四五千": a number, even one that is not read as money
    for kind, s, _e, _v in candidates:
        if kind in ("money", "bare") and s >= end:
            between = masked[end:s]
            if len(between) > 8 or "欠" in between or between.startswith("了"):
                return False
            if any(c in _CLAUSE_BREAK for c in between):
                return False
            if _EARN_SPEND_RE.search(between):
                return True  # "一个月跑下来能挣七千", "一个月辛辛苦苦也就挣五千"
            if len(between) > 6 or "了" in between:
                return False
            return _RATE_WORDS_RE.sub("", between) == ""
        if s >= end:
            break
    return False


# --------------------------------------------------------------------------- #
# Several debts in one message: what each amount is, and the total.

_DEBT_KIND_WORDS: Dict[str, Sequence[str]] = {
    TOTAL: (
        "总共",
        "一共",
        "共计",
        "合计",
        "加起来",
        "加一起",
        "加在一起",
        "总额",
        "总计",
        "总欠",
        "共欠",
        "累计",
        "算下来",
        "总的",
        "全部加",
        "全部欠",
        "总欠款",
        "全加起来",
        "还款总额",
    ),
    REPAID: (
        "还了",
        "已还",
        "还过",
        "还掉",
        "还上",
        "还进去",
        "已经还",
        "月还",
        "每月还",
        "每个月还",
        "每月要还",
        "每个月要还",
        "一个月要还",
        "一个月还",
        "每期还",
        "一期还",
        "只能还",
        "能还",
        "可以还",
        "最低还",
        "打算还",
        "想还",
        "先还",
        "还款",
        "月供",
        "每月还款",
        "每个月还款",
        "还清了",
        "才还",
        "分期还",
    ),
    REMAINING: (
        "还剩",
        "剩下",
        "剩余",
        "还欠",
        "还差",
        "还有",
        "现在欠",
        "目前欠",
        "还要还",
        "要还",
        "得还",
        "应还",
        "待还",
        "需还",
        "该还",
        "未还",
        "没还",
        "应还款",
        "待还款",
        "未还款",
        "还款金额",
    ),
    PRINCIPAL: ("本金",),
    LIMIT: ("额度", "授信", "提额"),
}
_DEBT_KIND_RE = re.compile(
    "|".join(sorted((re.escape(w) for ws in _DEBT_KIND_WORDS.values() for w in ws), key=len, reverse=True))
)
_DEBT_KIND_OF = {w: kind for kind, ws in _DEBT_KIND_WORDS.items() for w in ws}


def debt_kind(text: Any, start: int, floor: int = 0, cut: int = 0) -> str:
    """What the debt-amount number at ``text[start:]`` is, from the words in its
    clause before it (after ``floor``, the previous number, and ``cut``, a
    lender named in between): total, repaid, remaining, principal, limit or debt.

    >>> debt_kind("一共欠了十二万", 4), debt_kind("还了一万", 2), debt_kind("还欠四万", 2)
    ('total', 'repaid', 'remaining')
    """
    try:
        context = _left_context(text, start, max(floor, cut))
        best = None
        for m in _DEBT_KIND_RE.finditer(context):
            if best is None or m.end() > best.end() or (m.end() == best.end() and len(m.group()) > len(best.group())):
                best = m
        if best is not None and best.end() == len(context):
            return _DEBT_KIND_OF[best.group()]
        if context.endswith("还"):
            return REPAID  # "能不能先还两千", "还两千就行"
        if best is not None:
            return _DEBT_KIND_OF[best.group()]
        return DEBT
    except Exception:
        return DEBT


# Words that start a new debt without naming the lender ("一张三万，另一张两万").
_NEW_DEBT_RE = re.compile(
    r"另外一张|另一张|还有一张|另外一家|另一家|还有一家|第[二三四五六七八九]张|第[二三四五六七八九]家|"
    r"一张|一家|又借了|又欠了|又贷了|又借|又欠"
)
_SUMMARY_BREAK = set("，。,.;；!！?？\n\r\t、:：")


def _clause_of(text: str, pos: int) -> Tuple[int, int]:
    lo = pos
    while lo > 0 and text[lo - 1] not in _SUMMARY_BREAK:
        lo -= 1
    hi = pos
    while hi < len(text) and text[hi] not in _SUMMARY_BREAK:
        hi += 1
    return lo, hi


def summarise_debts(
    text: Any,
    amounts: Sequence[Dict[str, Any]],
    lenders: Sequence[Tuple[int, int, str]] = (),
    kinds_of_debt: Sequence[Tuple[int, int, str]] = (),
) -> Dict[str, Any]:
    """Add up the debts of a message, one amount per lender.

    ``amounts`` are the `amount` dicts of :func:`extract_quantities` (with their
    ``kind``); ``lenders`` the named lenders as (start, end, name) and
    ``kinds_of_debt`` the generic ones (信用卡, 网贷 ...) as (start, end, type).
    Each amount belongs to the lender named in its clause (else to the one
    named last before it); a lender's later balance ("还欠四万") replaces its
    earlier amount; a stated total ("一共", "加起来") is the total and is not
    added. Returns ``{"amount_parts": [...], "amount_total": n}`` when there are
    at least two debt amounts, else ``{}``. Never raises.
    """
    try:
        if not isinstance(text, str):
            return {}
        return _summarise(text, list(amounts), sorted(lenders), sorted(kinds_of_debt))
    except Exception:
        return {}


_PLURAL_RE = re.compile(r"[两三四五六七八九十几多好][个家张笔]")


def _summarise(
    text: str,
    amounts: List[Dict[str, Any]],
    lenders: List[Tuple[int, int, str]],
    generic: List[Tuple[int, int, str]],
) -> Dict[str, Any]:
    markers = [(m.start(), m.end(), f"#{m.start()}") for m in _NEW_DEBT_RE.finditer(text)]
    # Named lenders first, then "另一张", then 信用卡/网贷: the most specific wins.
    tiers = [lenders, markers, generic]
    items = []  # (key or None, kind, value, clause mentions, plural)
    owed = [a for a in amounts if a.get("kind", DEBT) not in (REPAID, LIMIT)]
    if len({a.get("currency", "CNY") for a in owed}) > 1:
        return {}  # 两万人民币 and 三十万台币 do not add up
    for a in sorted(owed, key=lambda a: a["start"]):
        kind = a.get("kind", DEBT)
        lo, hi = _clause_of(text, a["start"])
        key = None
        for tier in tiers:
            before = [m for m in tier if lo <= m[0] and m[1] <= a["start"]]
            after = [m for m in tier if a["end"] <= m[0] and m[1] <= hi]
            if before or after:
                key = (before[-1] if before else after[0])[2]
                break
        named = [m for m in lenders + generic if lo <= m[0] and m[1] <= hi]
        plural = any(_PLURAL_RE.search(text[max(0, m[0] - 2) : m[1]]) for m in named)
        # "信用卡总共欠了二十多万，其中浦发八万 ...": the parts follow.
        parts_follow = text[hi + 1 : hi + 3] == "其中"
        items.append([key, kind, a["value"], len({m[2] for m in named}), plural or parts_follow])
    last_key = None
    for item in items:  # an amount without a lender in its clause: the last one named
        if item[0] is None:
            item[0] = last_key
        last_key = item[0]
    keys = {i[0] for i in items}
    groups: Dict[Any, List[Tuple[str, int]]] = {}
    totals: List[int] = []
    for key, kind, value, n_named, plural in items:
        # "一共" is one lender's total only when its clause names just that
        # lender and other lenders have amounts ("信用卡一共八万，网贷一共三万").
        if kind == TOTAL and (n_named != 1 or plural or not keys - {key}):
            totals.append(value)
            continue
        groups.setdefault(key, []).append((kind, value))
    values = {k: _group_value(g) for k, g in groups.items()}
    # An amount of no lender that is the sum of the others is their total
    # ("欠了五万，招行三万浦发两万").
    unnamed = values.get(None)
    if unnamed is not None and len(values) >= 3:
        rest = [v for k, v in values.items() if k is not None and v is not None]
        if unnamed == sum(rest):
            del values[None]
            totals.append(unnamed)
    parts = [v for v in values.values() if v is not None]
    if len(parts) + len(totals) < 2:
        return {}
    facts: Dict[str, Any] = {}
    if len(parts) >= 2:
        facts["amount_parts"] = parts
    facts["amount_total"] = totals[-1] if totals else sum(parts)
    return facts


def _group_value(items: List[Tuple[str, int]]) -> Optional[int]:
    """One lender's debt: its latest balance, else its latest amount."""
    for kinds in ((REMAINING,), (DEBT, TOTAL), (PRINCIPAL,)):
        values = [v for k, v in items if k in kinds]
        if values:
            return values[-1]
    return None
