"""Starting a guided flow: which form, what it already knows, what to forget.

A flow never asks again for a fact the user already gave (docassemble's checklist
idea): when a form starts, its slots are pre-filled from the conversation's facts and
the form's first question is one confirmation line ("你前面说…，对吗？"). The form's
own answers from an earlier run are cleared, facts are not.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.advice.facts import REMEMBERED_FACTS, UNKNOWN, Facts

CONFIRM_SLOT = "facts_confirmed"
PREFILLED_SLOT = "prefilled"
UNFINISHED_SLOT = "unfinished_flow"
RESUME = "resume"

OFFER_FORMS = {
    "start_collector_check": "collector_check_form",
    "start_installment_plan": "installment_plan_form",
    "start_incident_log": "incident_log_form",
}
FORM_OFFERS = {form: offer for offer, form in OFFER_FORMS.items()}

# behaviour fact -> (collector check slot, the answer it gives)
BEHAVIOR_ANSWERS: Tuple[Tuple[str, str, str], ...] = (
    ("冒充警察", "collector_claims_to_be", "police"),
    ("冒充法院", "collector_claims_to_be", "court"),
    ("不出示证件", "collector_showed_id", "no"),
    ("深夜催收", "visit_at_night", "yes"),
    ("威胁", "collector_threat_kind", "safety_or_insult"),
    ("辱骂", "collector_threat_kind", "safety_or_insult"),
    ("闯入", "collector_entry", "forced"),
    ("拒不离开", "collector_entry", "refused_to_leave"),
    ("曝光隐私", "collector_third_party", "disclosed"),
    ("爆通讯录", "collector_third_party", "disclosed"),
    ("转账私人账户", "collector_demanded_personal_account", "yes"),
)


def form_for_offer(offer: str) -> Optional[str]:
    return OFFER_FORMS.get(offer)


def required_slots(domain: Dict[Text, Any], form: str) -> List[str]:
    """The form's required slots as domain.yml lists them (the one place they are defined)."""
    forms = domain.get("forms") or {}
    entry = forms.get(form) or {}
    return list(entry.get("required_slots") or [])


def prefill(form: str, facts: Facts) -> Dict[str, Any]:
    """Form slots that the conversation's facts already answer."""
    values: Dict[str, Any] = {}
    if form == "collector_check_form":
        for behavior, slot, answer in BEHAVIOR_ANSWERS:
            if behavior in facts.behavior:
                values.setdefault(slot, answer)
    elif form == "incident_log_form":
        if facts.behavior:
            values["incident_behaviors"] = list(facts.behavior)
        if facts.relation:
            values["incident_contacted"] = list(facts.relation)
    return values


def start_flow_events(tracker: Tracker, domain: Dict[Text, Any], form: str, facts: Facts) -> List[Dict[str, Any]]:
    """Clear the form's earlier answers (not the facts), pre-fill what is known, ask to confirm it.

    A "resume" choice (the button offered to a returning user) keeps the earlier answers.
    """
    resume = any(
        e.get("entity") == "choice" and e.get("value") == RESUME
        for e in (tracker.latest_message or {}).get("entities") or []
    )
    slots = required_slots(domain, form)
    events: List[Dict[str, Any]] = [SlotSet("form_failures", 0), SlotSet(UNFINISHED_SLOT, form)]
    if resume:
        return events + [SlotSet(CONFIRM_SLOT, "yes")]
    known = prefill(form, facts)
    for slot in slots:
        if slot in REMEMBERED_FACTS or slot == CONFIRM_SLOT:  # the conversation's facts are kept
            continue
        events.append(SlotSet(slot, known.get(slot)))
    prefilled = [
        s
        for s in slots
        if known.get(s) is not None or (s in REMEMBERED_FACTS and tracker.get_slot(s) not in (None, UNKNOWN))
    ]
    events += [SlotSet(PREFILLED_SLOT, prefilled or None), SlotSet(CONFIRM_SLOT, None if prefilled else "yes")]
    return events
