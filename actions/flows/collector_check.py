"""Collector check: who is at the door (or on the phone), and is what they do lawful?

Two questions are kept apart (legal_facts.md §7, §9, §15):
- Identity. A claim to be from a court or the police is not a scam by itself: courts
  serve documents in person (民诉法第八十八条, 第八十九条 留置送达) and the police may
  genuinely call after a bank reports suspected 恶意透支 (银行卡民事纠纷规定第三条). The
  answer is to verify independently (12368 / 110) and, if genuine, to cooperate. A
  demand to pay into a personal or "safe" account is the scam sign, whoever claims it.
- Conduct. Saying "we will sue / report you to 征信" is lawful pressure. Threats to
  safety and insults, entering without consent or refusing to leave (刑法245,
  治安法47), and telling others about the debt or collecting from them (办法68,
  个人信息保护法10, 民法典1038) are not. Asking a relative to pass on a message when the
  debtor cannot be reached is allowed by the industry norms; a visitor the user let in
  is not an intruder.

Levels, from least to most serious: legit_looking, doubtful, verify_official,
unlawful_conduct, likely_scam. The verify steps always name the bank's official
number from contacts.yml, never a number the visitor gives.

`ANSWERS` is the one definition of what each form question accepts: the form
validator and `validate_collector_answers` both use it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Dict, List, Mapping, Optional, Tuple

from actions.advice.kb import KnowledgeBase, Provision, load_kb, validate_bank
from actions.flows.flows_kb import (
    CLAIMS,
    LEVELS,
    RED_FLAG_LEVELS as FLAG_LEVEL,  # noqa: N811 (the rule table)
    Flows,
    hotline_text,
    load_flows,
    resolve,
)

MAX_HEADCOUNT = 50
MAX_NEXT_STEPS = 6
UNSURE = "unsure"

# Every value each question accepts ("unsure" is stored as unanswered, i.e. None).
ANSWERS: Dict[str, Tuple[str, ...]] = {
    "collector_claims_to_be": CLAIMS,
    "collector_showed_id": ("yes", "no", UNSURE),
    "collector_showed_authorisation": ("yes", "no", UNSURE),
    "visit_at_night": ("yes", "no", UNSURE),
    "collector_threat_kind": ("safety_or_insult", "lawful_pressure", "none", UNSURE),
    "collector_entry": ("none", "invited", "forced", "refused_to_leave", UNSURE),
    "collector_third_party": ("none", "located_me", "disclosed", UNSURE),
    "collector_demanded_personal_account": ("yes", "no", UNSURE),
}
YES_NO_FIELDS = tuple(name for name, values in ANSWERS.items() if values == ("yes", "no", UNSURE))
CHOICE_FIELDS = tuple(name for name, values in ANSWERS.items() if UNSURE in values and name not in YES_NO_FIELDS)

OFFICIALS = ("police", "court")
# Officials and a bank's own staff carry their own ID; only a collection agency needs the bank's mandate.
NO_MANDATE_NEEDED = (*OFFICIALS, "bank")


@dataclass(frozen=True)
class CollectorAnswers:
    """The form's answers; field names are the Rasa slot names. None = not answered / unsure."""

    collector_claims_to_be: str = "unknown"
    collector_showed_id: Optional[bool] = None
    collector_showed_authorisation: Optional[bool] = None
    collector_headcount: Optional[int] = None
    visit_at_night: Optional[bool] = None  # True: between 22:00 and 8:00
    collector_threat_kind: Optional[str] = None  # safety_or_insult / lawful_pressure / none
    collector_entry: Optional[str] = None  # none / invited / forced / refused_to_leave
    collector_third_party: Optional[str] = None  # none / located_me / disclosed
    collector_demanded_personal_account: Optional[bool] = None
    bank: Optional[str] = None  # canonical bank name

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> "CollectorAnswers":
        """Build from slot values as the form stores them ("yes"/"no"/"unsure", choice codes,
        the headcount as text); missing slots are unanswered. Raises ValueError on junk."""
        names = {f.name for f in fields(cls)}
        values: Dict[str, Any] = {}
        for name, raw in slots.items():
            if name not in names or raw is None:
                continue
            if name in YES_NO_FIELDS:
                values[name] = parse_answer(name, raw)
                values[name] = {"yes": True, "no": False}.get(values[name]) if values[name] else None
            elif name in CHOICE_FIELDS:
                choice = parse_answer(name, raw)
                values[name] = None if choice in (None, UNSURE) else choice
            elif name == "collector_headcount":
                values[name] = parse_headcount_value(raw)
            elif name == "bank":
                values[name] = raw[0] if isinstance(raw, (list, tuple)) and raw else (raw or None)
            else:
                values[name] = raw
        return validate_collector_answers(cls(**values))


def parse_answer(name: str, value: Any) -> Optional[str]:
    """A stored answer if it is one the question accepts, else None."""
    return value if isinstance(value, str) and value in ANSWERS[name] else None


def parse_headcount_value(value: Any) -> Optional[int]:
    """1..MAX_HEADCOUNT from an int, float or digit string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 1 <= value <= MAX_HEADCOUNT else None


@dataclass(frozen=True)
class RedFlag:
    id: str
    text: str
    provisions: Tuple[Provision, ...]


@dataclass(frozen=True)
class Verdict:
    level: str  # one of LEVELS
    label: str
    reasons: Tuple[RedFlag, ...]
    verify_steps: Tuple[str, ...]
    next_steps: Tuple[str, ...]


def validate_collector_answers(answers: CollectorAnswers) -> CollectorAnswers:
    """Raise ValueError for values no slot can hold; return the answers unchanged."""
    if answers.collector_claims_to_be not in CLAIMS:
        raise ValueError(f"collector_claims_to_be must be one of {CLAIMS}, got {answers.collector_claims_to_be!r}")
    for name in YES_NO_FIELDS:
        value = getattr(answers, name)
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{name} must be True, False or None, got {value!r}")
    for name in CHOICE_FIELDS:
        value = getattr(answers, name)
        if value is not None and (value == UNSURE or value not in ANSWERS[name]):
            raise ValueError(f"{name} must be one of {ANSWERS[name][:-1]} or None, got {value!r}")
    headcount = answers.collector_headcount
    if headcount is not None and parse_headcount_value(headcount) != headcount:
        raise ValueError(f"collector_headcount must be 1..{MAX_HEADCOUNT} or None, got {headcount!r}")
    validate_bank(answers.bank)
    return answers


def red_flag_ids(answers: CollectorAnswers) -> Tuple[str, ...]:
    """Which red flags and notes the answers raise, most serious first."""
    a = answers
    claims = a.collector_claims_to_be
    official = claims in OFFICIALS
    money = a.collector_demanded_personal_account is True
    checks = [
        ("official_money", official and money),
        ("personal_account", money and not official),
        ("safety_threat", a.collector_threat_kind == "safety_or_insult"),
        ("forced_entry", a.collector_entry == "forced"),
        ("refused_to_leave", a.collector_entry == "refused_to_leave"),
        ("disclosed_to_others", a.collector_third_party == "disclosed"),
        ("claims_court", claims == "court" and not money),  # with money, official_money says it all
        ("claims_police", claims == "police" and not money),
        ("night_visit", a.visit_at_night is True),
        ("identity_unknown", claims == "unknown"),
        ("no_id", a.collector_showed_id is False),
        ("id_unchecked", a.collector_showed_id is None and not official),
        # A bank's own staff carry a work card; an agency needs the bank's mandate.
        (
            "no_authorisation",
            a.collector_showed_authorisation is False
            or (claims == "agency" and a.collector_showed_authorisation is None),
        ),
        ("lawful_pressure", a.collector_threat_kind == "lawful_pressure"),
        ("invited_entry", a.collector_entry == "invited"),
        ("located_via_others", a.collector_third_party == "located_me"),
        ("single_visitor", a.collector_headcount == 1),
    ]
    return tuple(flag for flag, raised in checks if raised)


def level_for(flag_ids: Tuple[str, ...]) -> str:
    """The most serious level any flag raises; legit_looking when none does."""
    levels = [level for level in (FLAG_LEVEL[f] for f in flag_ids) if level]
    return max(levels, key=LEVELS.index) if levels else "legit_looking"


def _dedupe(items: List[str]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def assess_collector(
    answers: CollectorAnswers,
    kb: Optional[KnowledgeBase] = None,
    flows: Optional[Flows] = None,
) -> Verdict:
    """Grade the visitor and their conduct, and say how to verify them and what to do next."""
    validate_collector_answers(answers)
    kb = kb or load_kb()
    flows = flows or load_flows()
    texts = flows.collector
    hotline = hotline_text(answers.bank, kb, flows.formats)

    flag_ids = red_flag_ids(answers)
    level = level_for(flag_ids)
    reasons = tuple(RedFlag(f, texts.red_flags[f].text, resolve(texts.red_flags[f].provisions, kb)) for f in flag_ids)

    verify = list(texts.verify_steps["always"])
    if answers.collector_claims_to_be in OFFICIALS:
        verify += texts.verify_steps[answers.collector_claims_to_be]

    steps = list(texts.next_steps[level])
    for flag in flag_ids:
        steps += texts.flag_next_steps.get(flag, ())

    return Verdict(
        level=level,
        label=texts.labels[level],
        reasons=reasons,
        verify_steps=tuple(s.format(hotline=hotline) for s in _dedupe(verify)),
        next_steps=tuple(s.format(hotline=hotline) for s in _dedupe(steps))[:MAX_NEXT_STEPS],
    )
