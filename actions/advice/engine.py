"""The rule engine: picks the guidance for an intent and tailors it to the facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from actions.advice.facts import Facts
from actions.advice.kb import HelpChannel, KnowledgeBase, Provision, Variant, load_kb

MAX_STEPS = 5
MAX_NOTES = 2  # keeps one phone-sized message when many variants match; earlier variants win


@dataclass(frozen=True)
class Advice:
    intent: str
    answer: str
    notes: Tuple[str, ...]
    steps: Tuple[str, ...]
    provisions: Tuple[Provision, ...]
    help: Tuple[HelpChannel, ...]
    variants: Tuple[str, ...]
    offer: Optional[str] = None


def _numeric_ok(value: Optional[int], test: Mapping[str, Any]) -> bool:
    if value is None:
        return False
    checks = {
        "lt": value < test.get("lt", value + 1),
        "lte": value <= test.get("lte", value),
        "gt": value > test.get("gt", value - 1),
        "gte": value >= test.get("gte", value),
    }
    return all(checks[op] for op in test)


def _test_ok(value: Any, test: Any) -> bool:
    if test == "any":
        return bool(value) or value == 0
    if isinstance(test, list):
        values = value if isinstance(value, tuple) else (value,)
        if not values:  # an empty tuple fact is unknown
            values = (None,)
        return any(v in test for v in values)
    return _numeric_ok(value, test)


def matches(when: Mapping[str, Any], facts: Facts) -> bool:
    """A variant applies when every fact it names passes its test (a list may hold null: unknown)."""
    return all(_test_ok(facts.get(fact), test) for fact, test in when.items())


def template_values(facts: Facts, kb: KnowledgeBase) -> Dict[str, Any]:
    bank = kb.bank_by_name(facts.bank)
    values: Dict[str, Any] = {
        "bank": facts.bank or "",
        "hotline": bank.contact if bank else "",
        "amount": facts.amount if facts.amount is not None else "",
        "amount_wan": wan_text(facts.amount),
        "amount_parts": "、".join(wan_text(part) for part in facts.amount_parts),
        "monthly_income": facts.monthly_income if facts.monthly_income is not None else "",
        "monthly_expense": facts.monthly_expense if facts.monthly_expense is not None else "",
        "overdue_days": facts.overdue_duration if facts.overdue_duration is not None else "",
        "relation": "、".join(facts.relation),
        "behavior": "、".join(facts.behavior),
    }
    return values


def wan_text(amount: Optional[int]) -> str:
    if amount is None:
        return ""
    if amount >= 10000:
        # exact: rounding would turn 49999 into "5万元" and contradict a "below 5万" rule
        return f"{amount / 10000:.4f}".rstrip("0").rstrip(".") + "万元"
    return f"{amount}元"


def _dedupe(items: Iterable[Any]) -> List[Any]:
    return list(dict.fromkeys(items))


def _merge_steps(base: Tuple[str, ...], matched: List[Variant]) -> List[str]:
    """Variant steps go first, or in place of the base steps they replace (earlier variants win)."""
    front: List[str] = []
    replaced: Dict[int, str] = {}
    for variant in matched:
        if variant.replaces:
            for number, step in zip(variant.replaces, variant.steps):
                replaced.setdefault(number, step)
        else:
            front.extend(variant.steps)
    return front + [replaced.get(number, step) for number, step in enumerate(base, 1)]


def _known_bank(facts: Facts, kb: KnowledgeBase) -> Facts:
    """Drop a bank the KB has no hotline for, so hotline variants never render blank."""
    if facts.bank and kb.bank_by_name(facts.bank) is None:
        return facts.replace(bank=None)
    return facts


BANK_HELP_ID = "bank_official"


def _tailored_help(channel: HelpChannel, facts: Facts, kb: KnowledgeBase) -> HelpChannel:
    """The generic "bank's official line" becomes the named bank's number when we know it."""
    bank = kb.bank_by_name(facts.bank)
    if channel.id != BANK_HELP_ID or bank is None or bank.official_number is None:
        return channel
    name = kb.labels["bank_help"].format(bank=bank.name)
    return HelpChannel(channel.id, name, bank.official_number, channel.scope)


EMERGENCY_INTENT = "emergency_now"
OUTSIDE_VARIANT = "outside_mainland"  # the variant id of advice for a debt outside the mainland (no 12348 there)


def _outside_mainland(intent: str, facts: Facts, kb: KnowledgeBase) -> Advice:
    """Debt in Taiwan or Hong Kong: say the legal content is mainland-only, keep what holds anywhere."""
    outside = kb.outside
    assert outside is not None and facts.jurisdiction is not None
    place = outside.places[facts.jurisdiction]
    emergency = intent == EMERGENCY_INTENT
    answer = (outside.emergency_answer if emergency else outside.answer).format(place=place)
    steps = outside.emergency_steps if emergency else outside.steps
    return Advice(
        intent=intent,
        answer=answer,
        notes=(),
        steps=tuple(s.format(place=place) for s in steps),
        provisions=(),
        help=kb.local_help.get(facts.jurisdiction, ()),
        variants=(OUTSIDE_VARIANT,),
        offer=None,
    )


def advise(intent: str, facts: Facts, kb: Optional[KnowledgeBase] = None) -> Advice:
    kb = kb or load_kb()
    if facts.outside_mainland and kb.outside is not None:
        return _outside_mainland(intent, facts, kb)
    guidance = kb.guidance[intent]
    facts = _known_bank(facts, kb)
    matched = [v for v in guidance.variants if matches(v.when, facts)]
    values = template_values(facts, kb)

    answer = next((v.answer for v in matched if v.answer), guidance.answer)
    notes = [v.note for v in matched if v.note][:MAX_NOTES]
    steps = _dedupe(_merge_steps(guidance.steps, matched))[:MAX_STEPS]
    dropped = {p for v in matched for p in v.drop_provisions}
    provision_ids = [
        p for p in _dedupe([p for v in matched for p in v.provisions] + list(guidance.provisions)) if p not in dropped
    ]
    if not facts.card_rules_apply:  # a loan, not a card: card-only rules do not hold
        provision_ids = [p for p in provision_ids if not kb.provisions[p].card_only]
    help_ids = _dedupe(list(guidance.help) + [h for v in matched for h in v.help])

    return Advice(
        intent=intent,
        answer=answer.format(**values),
        notes=tuple(n.format(**values) for n in notes),
        steps=tuple(s.format(**values) for s in steps),
        provisions=tuple(kb.provisions[p] for p in provision_ids),
        help=tuple(_tailored_help(kb.help_channels[h], facts, kb) for h in help_ids),
        variants=tuple(v.id for v in matched),
        offer=guidance.offer,
    )
