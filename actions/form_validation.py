"""Validators of the three guided flows (Rasa forms).

Each answer is checked by a pure function; a wrong answer gets a friendly re-ask,
and after two in a row an explanation with a way out. A message that is really
another question is left alone, so the form is interrupted and resumed by rules.
"""
from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.guidance import planner
from actions.guidance.collector_check import BOOL_FIELDS
from actions.guidance.dialogue_kb import load_dialogue
from actions.guidance.incident import validate_behaviors, validate_evidence, validate_relations
from actions.guidance.kb import load_kb
from actions.guidance.quantities import parse_duration, parse_money, warm_up
from actions.say import cancel_button, say, send
from actions.tracker_facts import latest_intent

ANSWER_INTENTS = {"inform", "affirm", "deny", "nlu_fallback", "out_of_scope", "greet", "thank"}
YES_NO = {"yes", "no", "unsure"}
CLAIMS = {"bank", "agency", "police", "court", "unknown"}
UNKNOWN_WORDS = re.compile(r"不知道|不清楚|不记得|忘了|不确定|说不清|不想说|unknown")
EVIDENCE_WORDS = ("录音", "录像", "截图", "通话记录", "证人")
NEGATIVE = re.compile(r"负|-\s*\d|－\s*\d")
NO_EVIDENCE = re.compile(r"^(没有|还没有|暂无|没|无)|什么都没")
FAILURE_LIMIT = 2


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def slot_before_latest_message(tracker: Tracker, name: str) -> Any:
    """The slot's value as it was before the user's latest message."""
    value = None
    user_turns_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            user_turns_seen += 1
            continue
        if user_turns_seen and event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return value


_NUMBER_RUN = re.compile(r"[0-9.,]+[万千百wWkK]?[0-9]*|[零〇一二两三四五六七八九十百千万点]+")


def first_number(text: str) -> Optional[int]:
    """The first number in free text ("大概六千吧" -> 6000, "来了两个人" -> 2)."""
    whole = parse_money(text)
    if whole is not None:
        return whole
    for run in _NUMBER_RUN.findall(text or ""):
        value = parse_money(run)
        if value is not None:
            return value
    return None


def is_unknown(text: str) -> bool:
    return bool(UNKNOWN_WORDS.search(text))


def parse_yes_no(value: Any) -> Optional[str]:
    return value if value in YES_NO else None


def parse_headcount(value: Any) -> Optional[int]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
    else:
        number = first_number(str(value or ""))
    if number is None or not 1 <= number <= 50:
        return None
    return number


def parse_evidence(value: Any) -> Optional[List[str]]:
    items = value if isinstance(value, list) else [value]
    found: List[str] = []
    for item in items:
        text = str(item or "")
        if NO_EVIDENCE.search(text):
            found.append("没有")
        found.extend(w for w in EVIDENCE_WORDS if w in text)
        if "视频" in text and "录像" not in found:
            found.append("录像")
    found = list(dict.fromkeys(found))
    if len(found) > 1 and "没有" in found:
        found.remove("没有")
    try:
        return list(validate_evidence(found)) if found else None
    except ValueError:
        return None


def _is_interruption(tracker: Tracker) -> bool:
    """Another question (or cancel) rather than an answer to the form's question."""
    return latest_intent(tracker) not in ANSWER_INTENTS


class ExplainingFormValidation(FormValidationAction):
    """Counts failed answers to the requested slot; explains after two."""

    yes_no_slots: tuple = ()

    @abstractmethod
    def name(self) -> Text:
        """validate_<form name>; abstract so the SDK does not register this base."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        requested = tracker.get_slot("requested_slot")
        if not requested or tracker.active_loop.get("name") != self.form_name():
            return events
        filled = any(e.get("event") == "slot" and e.get("name") == requested and e.get("value") is not None for e in events)
        if filled:
            return events + [SlotSet("form_failures", 0)]
        if _is_interruption(tracker) and not any(e.get("event") == "slot" for e in events):
            return events
        failures = int(tracker.get_slot("form_failures") or 0) + 1
        if failures >= FAILURE_LIMIT:
            key = "yes_no" if requested in self.yes_no_slots else requested
            send(dispatcher, tracker, load_dialogue().explanations[key], [cancel_button()])
            failures = 0
        return events + [SlotSet("form_failures", failures)]


class ValidateCollectorCheckForm(ExplainingFormValidation):
    yes_no_slots = BOOL_FIELDS

    def name(self) -> Text:
        return "validate_collector_check_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher, tracker, domain) -> List[Text]:
        # Police/court impostors and bank staff need no bank authorisation letter.
        if tracker.get_slot("collector_claims_to_be") in ("police", "court", "bank"):
            return [s for s in domain_slots if s != "collector_showed_authorisation"]
        return domain_slots

    async def extract_collector_headcount(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "collector_headcount" or tracker.get_slot("collector_headcount"):
            return {}
        number = parse_headcount(latest_text(tracker))
        return {"collector_headcount": str(number)} if number else {}

    def validate_collector_claims_to_be(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"collector_claims_to_be": None}
        return {"collector_claims_to_be": value if value in CLAIMS else None}

    def validate_collector_headcount(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"collector_headcount": None}
        number = parse_headcount(value)
        return {"collector_headcount": str(number) if number else None}


def _yes_no_validator(slot: str):
    def validate(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return {slot: parse_yes_no(value)}  # None (flow restarted) stays None

    return validate


def _yes_no_extractor(slot: str):
    async def extract(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") == slot and not tracker.get_slot(slot) and is_unknown(latest_text(tracker)):
            return {slot: "unsure"}
        return {}

    return extract


for _slot in ValidateCollectorCheckForm.yes_no_slots:
    setattr(ValidateCollectorCheckForm, f"validate_{_slot}", _yes_no_validator(_slot))
    setattr(ValidateCollectorCheckForm, f"extract_{_slot}", _yes_no_extractor(_slot))


class ValidateInstallmentPlanForm(ExplainingFormValidation):
    def __init__(self) -> None:
        super().__init__()
        warm_up()  # rasa_sdk creates actions at start-up: cn2an is loaded before the first user

    def name(self) -> Text:
        return "validate_installment_plan_form"

    @staticmethod
    def _requested(tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    def _money_from_text(self, tracker: Tracker, slot: str) -> Dict[Text, Any]:
        """A bare number the extractor missed (e.g. "大概六千吧") answers the requested slot."""
        if not self._requested(tracker, slot) or tracker.get_slot(slot) is not None:
            return {}
        text = latest_text(tracker)
        if slot != "amount" and is_unknown(text):
            return {slot: "unknown"}
        number = first_number(text)
        if number is None and re.fullmatch(r"\s*[0０零]\s*元?\s*", text):
            number = 0
        return {slot: number} if number is not None else {}

    async def extract_amount(self, dispatcher, tracker, domain):
        return self._money_from_text(tracker, "amount")

    async def extract_monthly_income(self, dispatcher, tracker, domain):
        return self._money_from_text(tracker, "monthly_income")

    async def extract_monthly_expense(self, dispatcher, tracker, domain):
        return self._money_from_text(tracker, "monthly_expense")

    async def extract_overdue_duration(self, dispatcher, tracker, domain):
        if not self._requested(tracker, "overdue_duration") or tracker.get_slot("overdue_duration") is not None:
            return {}
        text = latest_text(tracker)
        if is_unknown(text):
            return {"overdue_duration": "unknown"}
        days = parse_duration(text)
        return {"overdue_duration": days} if days is not None else {}

    async def extract_bank(self, dispatcher, tracker, domain):
        if self._requested(tracker, "bank") and not tracker.get_slot("bank") and is_unknown(latest_text(tracker)):
            return {"bank": "unknown"}
        return {}

    def _keep_earlier_answer(self, slot: str, value: Any, tracker: Tracker) -> Optional[Dict[Text, Any]]:
        """An amount mentioned while another question was asked must not overwrite the debt."""
        requested = tracker.get_slot("requested_slot")
        if requested and requested != slot:
            return {slot: slot_before_latest_message(tracker, slot)}
        return None

    def validate_amount(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        kept = self._keep_earlier_answer("amount", value, tracker)
        if kept is not None:
            return kept
        if value is None:  # cleared when the flow (re)started
            return {"amount": None}
        if NEGATIVE.search(latest_text(tracker)):
            say(dispatcher, tracker, "invalid_number")
            return {"amount": None}
        try:
            return {"amount": planner.validate_amount(value)}
        except (TypeError, ValueError):
            say(dispatcher, tracker, "invalid_number")
            return {"amount": None}

    def _validate_monthly(self, slot: str, value: Any, dispatcher, tracker) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {slot: None}
        if value == "unknown" and slot == "monthly_expense":
            return {slot: "unknown"}
        try:
            checked = None if NEGATIVE.search(latest_text(tracker)) else planner.validate_monthly(value, slot)
        except (TypeError, ValueError):
            checked = None
        if checked is None:
            say(dispatcher, tracker, "invalid_number")
        return {slot: checked}

    def validate_monthly_income(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._validate_monthly("monthly_income", value, dispatcher, tracker)

    def validate_monthly_expense(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._validate_monthly("monthly_expense", value, dispatcher, tracker)

    def validate_overdue_duration(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"overdue_duration": None}
        if value == "unknown":
            return {"overdue_duration": "unknown"}
        try:
            return {"overdue_duration": planner.validate_overdue_days(value)}
        except (TypeError, ValueError):
            return {"overdue_duration": None}

    def validate_bank(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"bank": None}
        if value == "unknown":
            return {"bank": "unknown"}
        bank = load_kb().bank_by_name(str(value))
        return {"bank": bank.name if bank else str(value)}


class ValidateIncidentLogForm(ExplainingFormValidation):
    def name(self) -> Text:
        return "validate_incident_log_form"

    async def extract_incident_behaviors(self, dispatcher, tracker, domain):
        # Behaviours reported before the flow started count as the answer.
        if tracker.get_slot("requested_slot") is None and not tracker.get_slot("incident_behaviors"):
            earlier = tracker.get_slot("behavior")
            if earlier:
                return {"incident_behaviors": list(earlier)}
        return {}

    async def extract_incident_evidence(self, dispatcher, tracker, domain):
        if tracker.get_slot("requested_slot") != "incident_evidence":
            return {}
        found = parse_evidence(latest_text(tracker))
        return {"incident_evidence": found} if found else {}

    def validate_incident_behaviors(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"incident_behaviors": None}
        values = value if isinstance(value, list) else [value]
        try:
            return {"incident_behaviors": list(validate_behaviors(values)) or None}
        except ValueError:
            return {"incident_behaviors": None}

    def validate_incident_time(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"incident_time": None}
        text = str(value or "").strip()
        if not text or text.startswith("/"):
            return {"incident_time": None}
        return {"incident_time": text[:60]}

    def validate_incident_contacted(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"incident_contacted": None}
        values = value if isinstance(value, list) else [value]
        if any(v in ("none", None) for v in values):
            return {"incident_contacted": ["none"]}
        try:
            return {"incident_contacted": list(validate_relations(values)) or None}
        except ValueError:
            return {"incident_contacted": None}

    def validate_incident_evidence(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"incident_evidence": None}
        return {"incident_evidence": parse_evidence(value)}
