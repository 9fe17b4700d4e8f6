"""The rule engine: picks the guidance for an intent and tailors it to the facts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from actions.guidance.facts import Facts
from actions.guidance.kb import HelpChannel, KnowledgeBase, Provision, Variant, load_kb

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


def matches(when: Mapping[str, Any], facts: Facts) -> bool:
    """A variant applies when every fact it names passes its test."""
    for fact, test in when.items():
        value = facts.get(fact)
        if test == "any":
            ok = bool(value) or value == 0
        elif isinstance(test, list):
            values = value if isinstance(value, tuple) else (value,)
            ok = any(v in test for v in values if v is not None)
        else:
            ok = _numeric_ok(value, test)
        if not ok:
            return False
    return True


def template_values(facts: Facts, kb: KnowledgeBase) -> Dict[str, Any]:
    bank = kb.bank_by_name(facts.bank) if facts.bank else None
    values: Dict[str, Any] = {
        "bank": facts.bank or "",
        "hotline": (bank.card_hotline or bank.hotline) if bank else "",
        "amount": facts.amount if facts.amount is not None else "",
        "amount_wan": _wan(facts.amount),
        "monthly_income": facts.monthly_income if facts.monthly_income is not None else "",
        "monthly_expense": facts.monthly_expense if facts.monthly_expense is not None else "",
        "overdue_days": facts.overdue_duration if facts.overdue_duration is not None else "",
        "relation": "、".join(facts.relation),
        "behavior": "、".join(facts.behavior),
    }
    return values


def _wan(amount: Optional[int]) -> str:
    if amount is None:
        return ""
    if amount >= 10000:
        # exact: rounding would turn 49999 into "5万元" and contradict a "below 5万" rule
        return f"{amount / 10000:.4f}".rstrip("0").rstrip(".") + "万元"
    return f"{amount}元"


def _dedupe(items: Iterable[Any]) -> List[Any]:
    return list(dict.fromkeys(items))


def _merge_steps(base: Tuple[str, ...], matched: List[Variant]) -> List[str]:
    """Variant steps go first, or in place of the base step they replace."""
    front: List[str] = []
    slots: Dict[int, List[str]] = {}
    for variant in matched:
        if variant.replaces:
            slots.setdefault(variant.replaces, []).extend(variant.steps)
        else:
            front.extend(variant.steps)
    merged = list(front)
    for number, step in enumerate(base, 1):
        merged.extend(slots.get(number, [step]))
    return merged


def _known_bank(facts: Facts, kb: KnowledgeBase) -> Facts:
    """Drop a bank the KB has no hotline for, so hotline variants never render blank."""
    if facts.bank and kb.bank_by_name(facts.bank) is None:
        return Facts(**{**facts.__dict__, "bank": None})
    return facts


BANK_HELP_ID = "bank_official"


def _tailored_help(channel: HelpChannel, facts: Facts, kb: KnowledgeBase) -> HelpChannel:
    """The generic "bank's official line" becomes the named bank's number when we know it."""
    bank = kb.bank_by_name(facts.bank) if facts.bank else None
    if channel.id != BANK_HELP_ID or bank is None or not any(c.isdigit() for c in bank.card_hotline or bank.hotline):
        return channel
    name = kb.labels["bank_help"].format(bank=bank.name)
    return HelpChannel(channel.id, name, bank.card_hotline or bank.hotline, channel.scope)


def advise(intent: str, facts: Facts, kb: Optional[KnowledgeBase] = None) -> Advice:
    kb = kb or load_kb()
    guidance = kb.guidance[intent]
    facts = _known_bank(facts, kb)
    matched = [v for v in guidance.variants if matches(v.when, facts)]
    values = template_values(facts, kb)

    answer = next((v.answer for v in matched if v.answer), guidance.answer)
    notes = [v.note for v in matched if v.note][:MAX_NOTES]
    steps = _dedupe(_merge_steps(guidance.steps, matched))[:MAX_STEPS]
    provision_ids = _dedupe([p for v in matched for p in v.provisions] + list(guidance.provisions))
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
