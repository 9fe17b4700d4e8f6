"""Collector check: is the person at the door (or on the phone) legitimate, and lawful?

Grading (legal_facts.md):
- illegal_or_scam: impersonating police or a court (刑法279, 治安法62; police do not
  collect civil debts, courts do not collect at the door), a demand to pay into a
  personal account (scam pattern), threats (治安法50, 办法68), entering or refusing
  to leave the home (刑法245, 治安法47), collecting from third parties (办法68,
  个人信息保护法10, 民法典1038). These breach a law or a binding regulation.
- doubtful: identity not shown or not known, no authorisation, a visit between
  22:00 and 8:00 (2026 银行业协会 指引: self-regulation, not law).
- legit_looking: none of the above and the ID was actually seen. Still verify.
- A single visitor is only a soft note (the "≥2 collectors" rule has one source).
The verify steps always name the bank's official number from contacts.yml, never
a number the visitor gives.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Dict, List, Mapping, Optional, Tuple

from actions.guidance.flows_kb import CLAIMS, LEVELS, Flows, hotline_text, load_flows, resolve
from actions.guidance.kb import KnowledgeBase, Provision, load_kb

MAX_HEADCOUNT = 30
MAX_NEXT_STEPS = 6

# Red flag -> the level it raises the verdict to (None: a note that changes nothing).
FLAG_LEVEL: Dict[str, Optional[str]] = {
    "claims_police": "illegal_or_scam",
    "claims_court": "illegal_or_scam",
    "personal_account": "illegal_or_scam",
    "threatened": "illegal_or_scam",
    "entered_or_stayed": "illegal_or_scam",
    "contacted_others": "illegal_or_scam",
    "night_visit": "doubtful",
    "no_id": "doubtful",
    "no_authorisation": "doubtful",
    "id_unchecked": "doubtful",
    "identity_unknown": "doubtful",
    "single_visitor": None,
}

BOOL_FIELDS = (
    "collector_showed_id",
    "collector_showed_authorisation",
    "visit_at_night",
    "collector_threatened",
    "collector_entered_or_stayed",
    "collector_contacted_others",
    "collector_demanded_personal_account",
)


@dataclass(frozen=True)
class CollectorAnswers:
    """The form's answers; field names are the Rasa slot names. None = not answered."""

    collector_claims_to_be: str = "unknown"
    collector_showed_id: Optional[bool] = None
    collector_showed_authorisation: Optional[bool] = None
    collector_headcount: Optional[int] = None
    visit_at_night: Optional[bool] = None  # True: between 22:00 and 8:00
    collector_threatened: Optional[bool] = None
    collector_entered_or_stayed: Optional[bool] = None  # entered the home or refused to leave
    collector_contacted_others: Optional[bool] = None
    collector_demanded_personal_account: Optional[bool] = None
    bank: Optional[str] = None  # canonical bank name

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> "CollectorAnswers":
        """Build from slot values (missing slots = unanswered); validated."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in slots.items() if k in names}
        if values.get("collector_claims_to_be") is None:
            values.pop("collector_claims_to_be", None)
        bank = values.get("bank")
        if isinstance(bank, (list, tuple)):
            values["bank"] = bank[0] if bank else None  # a list slot filled by several mentions
        headcount = values.get("collector_headcount")
        if isinstance(headcount, float) and headcount.is_integer():
            values["collector_headcount"] = int(headcount)  # Rasa float slots
        return validate_collector_answers(cls(**values))


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
    for name in BOOL_FIELDS:
        value = getattr(answers, name)
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{name} must be True, False or None, got {value!r}")
    headcount = answers.collector_headcount
    if headcount is not None:
        if isinstance(headcount, bool) or not isinstance(headcount, int) or not 1 <= headcount <= MAX_HEADCOUNT:
            raise ValueError(f"collector_headcount must be 1..{MAX_HEADCOUNT} or None, got {headcount!r}")
    if answers.bank is not None and (not isinstance(answers.bank, str) or not answers.bank.strip()):
        raise ValueError(f"bank must be a non-empty name or None, got {answers.bank!r}")
    return answers


def red_flag_ids(answers: CollectorAnswers) -> Tuple[str, ...]:
    """Which red flags the answers raise, most serious first."""
    a = answers
    claims = a.collector_claims_to_be
    impersonation = claims in ("police", "court")
    checks = [
        ("claims_police", claims == "police"),
        ("claims_court", claims == "court"),
        ("personal_account", a.collector_demanded_personal_account is True),
        ("threatened", a.collector_threatened is True),
        ("entered_or_stayed", a.collector_entered_or_stayed is True),
        ("contacted_others", a.collector_contacted_others is True),
        ("night_visit", a.visit_at_night is True),
        ("identity_unknown", claims == "unknown"),
        ("no_id", a.collector_showed_id is False),
        ("id_unchecked", a.collector_showed_id is None and not impersonation),
        # A bank's own staff carry a work card; an agency needs the bank's mandate.
        ("no_authorisation", a.collector_showed_authorisation is False
         or (claims == "agency" and a.collector_showed_authorisation is None)),
        ("single_visitor", a.collector_headcount == 1),
    ]
    return tuple(flag for flag, raised in checks if raised)


def level_for(flag_ids: Tuple[str, ...]) -> str:
    """The most serious level any flag raises; legit_looking when none does."""
    levels = [FLAG_LEVEL[f] for f in flag_ids if FLAG_LEVEL[f]]
    return max(levels, key=LEVELS.index) if levels else "legit_looking"


def _dedupe(items: List[str]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def assess_collector(
    answers: CollectorAnswers,
    kb: Optional[KnowledgeBase] = None,
    flows: Optional[Flows] = None,
) -> Verdict:
    """Grade the collector and say how to verify them and what to do next."""
    validate_collector_answers(answers)
    kb = kb or load_kb()
    flows = flows or load_flows()
    texts = flows.collector
    hotline = hotline_text(answers.bank, kb, flows.formats)

    flag_ids = red_flag_ids(answers)
    level = level_for(flag_ids)
    reasons = tuple(
        RedFlag(f, texts.red_flags[f].text, resolve(texts.red_flags[f].provisions, kb)) for f in flag_ids
    )

    verify = list(texts.verify_steps["always"])
    if answers.collector_claims_to_be in ("police", "court"):
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
