"""What each guided flow produces once its form is complete, and the flow reset."""
from __future__ import annotations

from datetime import date
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.guidance import planner
from actions.guidance.collector_check import CollectorAnswers, assess_collector
from actions.guidance.facts import Facts
from actions.guidance.incident import map_incident
from actions.guidance.kb import Provision
from actions.guidance.render import split_for_phone
from actions.say import say, send

FLOW_SLOTS = {
    "collector_check_form": (
        "collector_claims_to_be",
        "collector_showed_id",
        "collector_showed_authorisation",
        "collector_headcount",
        "visit_at_night",
        "collector_threatened",
        "collector_entered_or_stayed",
        "collector_contacted_others",
        "collector_demanded_personal_account",
    ),
    "installment_plan_form": ("amount", "monthly_income", "monthly_expense", "overdue_duration"),
    "incident_log_form": ("incident_behaviors", "incident_time", "incident_contacted", "incident_evidence"),
}
START_INTENT_FORM = {
    "start_collector_check": "collector_check_form",
    "start_installment_plan": "installment_plan_form",
    "start_incident_log": "incident_log_form",
}
YES_NO_BOOL = {"yes": True, "no": False}


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _cited(text: str, provisions: Iterable[Provision]) -> str:
    citations = "、".join(p.citation for p in provisions)
    return f"{text}（{citations}）" if citations else text


def _known(value: Any) -> Optional[Any]:
    return None if value in (None, "unknown", "") else value



class ActionResetFlowSlots(Action):
    """Clear a flow's answers before it starts again, keeping what the user just said."""

    def name(self) -> Text:
        return "action_reset_flow_slots"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        form = START_INTENT_FORM.get((tracker.latest_message.get("intent") or {}).get("name") or "")
        if form is None:
            return []
        just_set = set()
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                break
            if event.get("event") == "slot":
                just_set.add(event.get("name"))
        entities = {e.get("entity") for e in tracker.latest_message.get("entities") or []}
        keep = just_set | entities
        return [SlotSet(slot, None) for slot in FLOW_SLOTS[form] if slot not in keep] + [SlotSet("form_failures", 0)]


class ActionAssessCollector(Action):
    def name(self) -> Text:
        return "action_assess_collector"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        slots = {name: tracker.get_slot(name) for name in FLOW_SLOTS["collector_check_form"]}
        for name, value in slots.items():
            if name not in ("collector_claims_to_be", "collector_headcount"):
                slots[name] = YES_NO_BOOL.get(value)
        headcount = slots.get("collector_headcount")
        slots["collector_headcount"] = int(headcount) if str(headcount or "").isdigit() else None
        slots["collector_claims_to_be"] = slots.get("collector_claims_to_be") or "unknown"
        slots["bank"] = _known(tracker.get_slot("bank"))
        verdict = assess_collector(CollectorAnswers.from_slots(slots))
        reasons = "\n".join(f"· {_cited(flag.text, flag.provisions)}" for flag in verdict.reasons)
        first, *rest = split_for_phone(reasons, 520) or [""]
        say(dispatcher, tracker, "collector_verdict", verdict=verdict.label, reasons=first)
        for chunk in rest:
            send(dispatcher, tracker, chunk)
        say(dispatcher, tracker, "collector_next",
            verify_steps=_bullets(verdict.verify_steps),
            next_steps=_bullets(verdict.next_steps),
        )
        return [SlotSet("last_topic", "ask_collector_legitimacy")]


class ActionMakeInstallmentPlan(Action):
    def name(self) -> Text:
        return "action_make_installment_plan"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        facts = Facts.from_mapping(
            {
                "amount": tracker.get_slot("amount"),
                "monthly_income": tracker.get_slot("monthly_income"),
                "monthly_expense": _known(tracker.get_slot("monthly_expense")),
                "overdue_duration": _known(tracker.get_slot("overdue_duration")),
                "bank": _known(tracker.get_slot("bank")),
            }
        )
        plan = planner.plan_installment(
            facts.amount, facts.monthly_income, facts.monthly_expense, facts.overdue_duration, facts.bank
        )
        say(dispatcher, tracker, "plan_result",
            reason=plan.reason,
            notes="\n".join(plan.notes[:2]),
            next_steps=_bullets(plan.next_steps),
        )
        if plan.proposal_kind in ("plan", "stretch"):
            say(dispatcher, tracker, "plan_documents_intro")
            send(dispatcher, tracker, planner.application_letter(plan, facts, date.today()))
            say(dispatcher, tracker, "plan_phone_script", script=planner.phone_script(plan, facts))
        warning = planner.agent_warning()
        say(dispatcher, tracker, "plan_checklist",
            checklist=_bullets(planner.written_checklist()),
            warning=_cited(warning.text, warning.provisions),
        )
        return [SlotSet("last_topic", "ask_installment_negotiation")]


class ActionLogIncident(Action):
    def name(self) -> Text:
        return "action_log_incident"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        contacted = [r for r in tracker.get_slot("incident_contacted") or [] if r != "none"]
        evidence = tracker.get_slot("incident_evidence") or []
        incident = map_incident(
            tracker.get_slot("incident_behaviors") or [],
            tracker.get_slot("incident_time"),
            contacted,
            evidence,
            _known(tracker.get_slot("bank")),
            date.today(),
        )
        say(dispatcher, tracker, "incident_summary_intro")
        send(dispatcher, tracker, incident.summary)
        say(dispatcher, tracker, "incident_complaints_intro")
        send(dispatcher, tracker, incident.complaint_to_bank)
        send(dispatcher, tracker, incident.complaint_to_12378)
        say(dispatcher, tracker, "incident_next", next_steps=_bullets(incident.next_steps))
        return [SlotSet("last_topic", "report_harassment")]
