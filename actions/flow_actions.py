"""Guided flows: start one, and what each produces once its form is complete.

Each result is also kept in a `case_*` slot, so that the case summary can hand the
whole case over without reading the conversation history.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet

from actions.advice.facts import UNKNOWN
from actions.advice.kb import Provision
from actions.advice.render import split_for_phone
from actions.flow_state import OFFER_FORMS, UNFINISHED_SLOT, start_flow_events
from actions.flows import planner
from actions.flows.collector_check import CollectorAnswers, assess_collector
from actions.flows.incident import map_incident
from actions.say import say, send, send_document, summary_button
from actions.tracker_facts import current_facts, latest_intent, script_update

MAX_CASE_INCIDENTS = 10
DOC_LETTER, DOC_RECORD, DOC_COMPLAINT_BANK, DOC_COMPLAINT_12378 = (
    "letter",
    "record",
    "complaint_bank",
    "complaint_12378",
)


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _cited(text: str, provisions: Iterable[Provision]) -> str:
    citations = "、".join(p.citation for p in provisions)
    return f"{text}（{citations}）" if citations else text


def _known(value: Any) -> Optional[Any]:
    return None if value in (None, UNKNOWN, "") else value


def _finished(tracker: Tracker) -> List[Dict[str, Any]]:
    return [SlotSet(UNFINISHED_SLOT, None)] + script_update(tracker)


class ActionStartFlow(Action):
    """A start button (or a yes to the offer): clear the form's old answers, pre-fill what is known."""

    def name(self) -> Text:
        return "action_start_flow"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        form = OFFER_FORMS.get(latest_intent(tracker))
        if form is None:
            return []
        facts, events = current_facts(tracker)
        return events + script_update(tracker) + start_flow_events(tracker, domain, form, facts)


class ActionCancelFlow(Action):
    def name(self) -> Text:
        return "action_cancel_flow"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "cancelled")
        return _finished(tracker)


class ActionAssessCollector(Action):
    def name(self) -> Text:
        return "action_assess_collector"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        slots = {name: tracker.get_slot(name) for name in CollectorAnswers.__dataclass_fields__}
        slots["bank"] = _known(tracker.get_slot("bank"))
        answers = CollectorAnswers.from_slots(slots)
        verdict = assess_collector(answers)
        reasons = "\n".join(f"· {_cited(flag.text, flag.provisions)}" for flag in verdict.reasons)
        first, *rest = split_for_phone(reasons, 520) or [""]
        say(dispatcher, tracker, "collector_verdict", verdict=verdict.label, reasons=first)
        for chunk in rest:
            send(dispatcher, tracker, chunk)
        say(
            dispatcher,
            tracker,
            "collector_next",
            buttons=[summary_button()],
            verify_steps=_bullets(verdict.verify_steps),
            next_steps=_bullets(verdict.next_steps),
        )
        record = {
            "date": date.today().isoformat(),
            "level": verdict.level,
            "label": verdict.label,
            "reasons": [flag.id for flag in verdict.reasons],
            "citations": list(dict.fromkeys(p.citation for flag in verdict.reasons for p in flag.provisions)),
        }
        return [SlotSet("last_topic", "ask_collector_legitimacy"), SlotSet("case_verdict", record)] + _finished(tracker)


class ActionMakeInstallmentPlan(Action):
    def name(self) -> Text:
        return "action_make_installment_plan"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        facts, events = current_facts(tracker)
        inputs = planner.inputs_from_slots({name: tracker.get_slot(name) for name in planner.INPUT_SLOTS})
        plan = planner.plan_installment(**inputs)
        say(
            dispatcher,
            tracker,
            "plan_result",
            reason=plan.reason,
            notes="\n".join(plan.notes[:2]),
            next_steps=_bullets(plan.next_steps),
        )
        plan_facts = facts.replace(**planner.facts_of(plan))
        if plan.proposal_kind in ("plan", "stretch", "unknown"):
            say(dispatcher, tracker, "plan_documents_intro")
            letter = planner.application_letter(plan, plan_facts, date.today())
            send_document(dispatcher, tracker, DOC_LETTER, letter)
            say(dispatcher, tracker, "plan_phone_script", script=planner.phone_script(plan, plan_facts))
        agent = planner.agent_warning()
        commitment = planner.commitment_warning()
        say(
            dispatcher,
            tracker,
            "plan_checklist",
            buttons=[summary_button()],
            checklist=_bullets(planner.written_checklist()),
            warning=_cited(commitment.text, commitment.provisions) + "\n\n" + _cited(agent.text, agent.provisions),
        )
        record = {
            "date": date.today().isoformat(),
            "summary": plan.reason,
            "periods": plan.periods,
            "monthly": plan.monthly_payment,
            "feasible": plan.feasible,
            "citations": [p.citation for p in plan.provisions],
        }
        return (
            events
            + [SlotSet("last_topic", "ask_installment_negotiation"), SlotSet("case_plan", record)]
            + _finished(tracker)
        )


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
        send_document(dispatcher, tracker, DOC_RECORD, incident.summary)
        say(dispatcher, tracker, "incident_complaints_intro")
        send_document(dispatcher, tracker, DOC_COMPLAINT_BANK, incident.complaint_to_bank)
        send_document(dispatcher, tracker, DOC_COMPLAINT_12378, incident.complaint_to_12378)
        say(dispatcher, tracker, "incident_next", buttons=[summary_button()], next_steps=_bullets(incident.next_steps))
        record = {
            "date": date.today().isoformat(),
            "when": incident.when,
            "behaviors": [e.behavior for e in incident.events],
            "contacted": list(incident.contacted),
            "evidence": list(incident.evidence),
            "citations": [p.citation for p in incident.provisions],
        }
        kept = [r for r in tracker.get_slot("case_incidents") or [] if isinstance(r, dict)]
        return [
            SlotSet("last_topic", "report_harassment"),
            SlotSet("case_incidents", (kept + [record])[-MAX_CASE_INCIDENTS:]),
        ] + _finished(tracker)
