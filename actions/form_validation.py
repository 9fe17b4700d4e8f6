"""Validators of the three guided flows (Rasa forms).

Each answer is checked by the same function the flow's rule uses (collector_check.ANSWERS
and parse_headcount_value, planner.parse_field), so everything a form accepts is
something the rule function accepts. A wrong answer gets a friendly re-ask, and after
two in a row an explanation with a way out. A message that is really another question
is left alone, so the form is interrupted and resumed by rules.

A flow that re-uses earlier facts first asks `facts_confirmed` ("你前面说…，对吗？"):
"对" keeps them, "改一下" clears them so that each is asked again, and a new value
("其实是六万") replaces the old one and the line is shown again.
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

from actions.advice.dialogue_kb import load_dialogue
from actions.advice.facts import LOAN_TYPES
from actions.advice.kb import load_kb
from actions.flow_state import CONFIRM_SLOT, PREFILLED_SLOT
from actions.flows import planner
from actions.flows.collector_check import (
    ANSWERS,
    CHOICE_FIELDS,
    NO_MANDATE_NEEDED,
    YES_NO_FIELDS,
    parse_answer,
    parse_headcount_value,
)
from actions.flows.flows_kb import EVIDENCE
from actions.flows.incident import NO_EVIDENCE, validate_behaviors, validate_evidence, validate_relations
from actions.say import cancel_button, say, send
from actions.tracker_facts import latest_intent
from chinese_text.quantities import parse_duration, parse_money, warm_up

ANSWER_INTENTS = {"inform", "affirm", "deny", "nlu_fallback", "out_of_scope", "greet", "thank"}
UNKNOWN_WORDS = re.compile(r"不知道|不清楚|不记得|忘了|不确定|说不清|不想说|unknown")
EVIDENCE_WORDS = tuple(e for e in EVIDENCE if e != NO_EVIDENCE)  # said as such ("录音和截图")
NEGATIVE = re.compile(r"负|-\s*\d|－\s*\d")
NO_EVIDENCE_WORDS = re.compile(r"^(没有|还没有|暂无|没|无)|什么都没")
EDIT_WORDS = re.compile(r"改|不对|错了|不是这样|重新")
FAILURE_LIMIT = 2
EDIT = "edit"

# Free-text answers to the collector check's choice questions (the buttons send the codes).
CHOICE_WORDS: Dict[str, List[tuple]] = {
    "collector_threat_kind": [
        ("safety_or_insult", r"打|砸|杀|弄死|卸|伤害|人身|安全|骂|辱|滚|全家|泼|烧|威胁|恐吓"),
        ("lawful_pressure", r"起诉|告我|法院|征信|上报|律师|走法律"),
        ("none", r"^(没有|没|都没有|都没|没说)"),
    ],
    "collector_entry": [
        ("refused_to_leave", r"不走|不肯走|赖着|赶不走|叫不走"),
        ("forced", r"闯|冲进|硬进|强行|没经|没同意|撬"),
        ("invited", r"让.{0,3}进|同意|开门让|请.{0,2}进"),
        ("none", r"^(没有|没|没进|没进门|在门外)"),
    ],
    "collector_third_party": [
        (
            "disclosed",
            r"说.{0,4}欠|告诉.{0,4}欠|让.{0,6}还|替我还|要钱|催.{0,2}(他们|家人|我妈|我爸|同事)|曝光|说我是老赖",
        ),
        ("located_me", r"回电|找我|联系我|转告|问我在哪|打不通"),
        ("none", r"^(没有|没|没找)"),
    ],
}
LOAN_TYPE_WORDS = [
    ("illegal_loan", r"高利贷|套路贷|砍头息"),
    ("online_lending", r"网贷|平台|花呗|借呗|白条|app|APP"),
    ("private_loan", r"私人|个人|朋友|亲戚|借条"),
    ("bank_loan", r"贷款|消费贷|信用贷"),
    ("credit_card", r"信用卡|卡"),
]


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def slot_before_latest_message(tracker: Tracker, name: str) -> Any:
    """The slot's value as it was before the user's latest message."""
    user_turns_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            user_turns_seen += 1
            continue
        if user_turns_seen and event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return None


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


def parse_headcount(value: Any) -> Optional[int]:
    """A headcount from a slot value or free text ("来了两个人")."""
    number = parse_headcount_value(value)
    if number is None and not isinstance(value, (int, float)):
        number = parse_headcount_value(first_number(str(value or "")))
    return number


def choice_from_text(slot: str, text: str) -> Optional[str]:
    if is_unknown(text):
        return "unsure"
    for value, pattern in CHOICE_WORDS[slot]:
        if re.search(pattern, text):
            return value
    return None


def loan_type_from_text(text: str) -> Optional[str]:
    if is_unknown(text):
        return planner.UNKNOWN
    for value, pattern in LOAN_TYPE_WORDS:
        if re.search(pattern, text):
            return value
    return None


def parse_evidence(value: Any) -> Optional[List[str]]:
    items = value if isinstance(value, list) else [value]
    found: List[str] = []
    for item in items:
        text = str(item or "")
        if NO_EVIDENCE_WORDS.search(text):
            found.append(NO_EVIDENCE)
        found.extend(w for w in EVIDENCE_WORDS if w in text)
        if "视频" in text and "录像" not in found:
            found.append("录像")
    found = list(dict.fromkeys(found))
    if len(found) > 1 and NO_EVIDENCE in found:
        found.remove(NO_EVIDENCE)
    try:
        return list(validate_evidence(found)) if found else None
    except ValueError:
        return None


def _corrects_a_fact(tracker: Tracker) -> bool:
    """The latest message gives a new value to one of the re-used facts."""
    prefilled = set(tracker.get_slot(PREFILLED_SLOT) or [])
    new_values = tracker.slots_to_validate()
    return any(
        new_values[slot] is not None and new_values[slot] != slot_before_latest_message(tracker, slot)
        for slot in prefilled & set(new_values)
    )


def _is_interruption(tracker: Tracker) -> bool:
    """Another question (or cancel) rather than an answer to the form's question."""
    return latest_intent(tracker) not in ANSWER_INTENTS


class ExplainingFormValidation(FormValidationAction):
    """Counts failed answers to the requested slot (explains after two); confirms re-used facts first."""

    @abstractmethod
    def name(self) -> Text:
        """validate_<form name>; abstract so the SDK does not register this base."""

    def explanation_key(self, slot: str) -> str:
        return slot

    async def required_slots(self, domain_slots: List[Text], dispatcher, tracker, domain) -> List[Text]:
        """domain.yml lists facts_confirmed first; it is asked only while re-used facts await a "对"."""
        slots = [s for s in domain_slots if s != CONFIRM_SLOT]
        if tracker.get_slot(PREFILLED_SLOT) and tracker.get_slot(CONFIRM_SLOT) != "yes":
            return [CONFIRM_SLOT] + slots
        return slots

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        requested = tracker.get_slot("requested_slot")
        if requested == CONFIRM_SLOT and tracker.get_slot(CONFIRM_SLOT) == "yes" and _corrects_a_fact(tracker):
            tracker.slots[CONFIRM_SLOT] = None  # so the SDK asks the review line again, not the next question
        events = await super().run(dispatcher, tracker, domain)
        if not requested or tracker.active_loop.get("name") != self.form_name():
            return events
        set_now = {e.get("name") for e in events if e.get("event") == "slot" and e.get("value") is not None}
        prefilled = set(tracker.get_slot(PREFILLED_SLOT) or [])
        if requested in set_now or (requested == CONFIRM_SLOT and set_now & prefilled):
            return events + [SlotSet("form_failures", 0)]  # answered, or a fact corrected at the review
        answered = [e for e in events if e.get("event") == "slot" and e.get("name") != "requested_slot"]
        if _is_interruption(tracker) and not answered:
            return events
        failures = int(tracker.get_slot("form_failures") or 0) + 1
        if failures >= FAILURE_LIMIT:
            send(dispatcher, tracker, load_dialogue().explanations[self.explanation_key(requested)], [cancel_button()])
            failures = 0
        return events + [SlotSet("form_failures", failures)]

    async def extract_facts_confirmed(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") == CONFIRM_SLOT and EDIT_WORDS.search(latest_text(tracker)):
            return {CONFIRM_SLOT: EDIT}
        return {}

    def validate_facts_confirmed(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == EDIT:  # ask each re-used fact again
            cleared = {slot: None for slot in tracker.get_slot(PREFILLED_SLOT) or []}
            return {**cleared, CONFIRM_SLOT: "yes", PREFILLED_SLOT: None}
        if value == "yes" and _corrects_a_fact(tracker):
            return {CONFIRM_SLOT: None}  # "其实是六万" may read as a yes: show the line again
        return {CONFIRM_SLOT: "yes" if value == "yes" else None}


class ValidateCollectorCheckForm(ExplainingFormValidation):
    def name(self) -> Text:
        return "validate_collector_check_form"

    def explanation_key(self, slot: str) -> str:
        return "yes_no" if slot in YES_NO_FIELDS else slot

    async def required_slots(self, domain_slots: List[Text], dispatcher, tracker, domain) -> List[Text]:
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        # Police/court claims and bank staff need no bank authorisation letter.
        if tracker.get_slot("collector_claims_to_be") in NO_MANDATE_NEEDED:
            return [s for s in slots if s != "collector_showed_authorisation"]
        return slots

    async def extract_collector_headcount(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "collector_headcount" or tracker.get_slot("collector_headcount"):
            return {}
        number = parse_headcount(latest_text(tracker))
        return {"collector_headcount": str(number)} if number else {}

    def validate_collector_claims_to_be(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return {"collector_claims_to_be": parse_answer("collector_claims_to_be", value)}

    def validate_collector_headcount(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {"collector_headcount": None}
        number = parse_headcount(value)
        return {"collector_headcount": str(number) if number else None}


def _answer_validator(slot: str):
    def validate(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return {slot: parse_answer(slot, value)}  # None (flow restarted, or junk) stays None

    return validate


def _unsure_extractor(slot: str):
    async def extract(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != slot or tracker.get_slot(slot):
            return {}
        text = latest_text(tracker)
        if slot in CHOICE_WORDS:
            choice = choice_from_text(slot, text)
            return {slot: choice} if choice else {}
        return {slot: "unsure"} if is_unknown(text) else {}

    return extract


for _slot in ANSWERS:
    if _slot == "collector_claims_to_be":
        continue
    setattr(ValidateCollectorCheckForm, f"validate_{_slot}", _answer_validator(_slot))
    if _slot in YES_NO_FIELDS or _slot in CHOICE_FIELDS:
        setattr(ValidateCollectorCheckForm, f"extract_{_slot}", _unsure_extractor(_slot))


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
            return {slot: planner.UNKNOWN}
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
            return {"overdue_duration": planner.UNKNOWN}
        days = parse_duration(text)
        return {"overdue_duration": days} if days is not None else {}

    async def extract_bank(self, dispatcher, tracker, domain):
        if self._requested(tracker, "bank") and not tracker.get_slot("bank") and is_unknown(latest_text(tracker)):
            return {"bank": planner.UNKNOWN}
        return {}

    async def extract_loan_type(self, dispatcher, tracker, domain):
        if tracker.get_slot("loan_type"):
            return {}
        derived = (tracker.latest_message.get("derived_facts") or {}).get("loan_type")
        if derived in LOAN_TYPES:
            return {"loan_type": derived}  # said anywhere in the flow, asked or not
        if self._requested(tracker, "loan_type"):
            found = loan_type_from_text(latest_text(tracker))
            return {"loan_type": found} if found else {}
        return {}

    def _keep_earlier_answer(self, slot: str, tracker: Tracker) -> Optional[Dict[Text, Any]]:
        """An amount mentioned while another question was asked must not overwrite the debt."""
        requested = tracker.get_slot("requested_slot")
        if requested and requested not in (slot, CONFIRM_SLOT):
            return {slot: slot_before_latest_message(tracker, slot)}
        return None

    def _checked(self, slot: str, value: Any, dispatcher, tracker) -> Dict[Text, Any]:
        if value is None:  # cleared when the flow (re)started
            return {slot: None}
        if NEGATIVE.search(latest_text(tracker)) and self._requested(tracker, slot):
            say(dispatcher, tracker, "invalid_number")
            return {slot: None}
        try:
            return {slot: planner.parse_field(slot, value)}
        except (TypeError, ValueError):
            if slot in ("amount", "monthly_income", "monthly_expense"):
                say(dispatcher, tracker, "invalid_number")
            return {slot: None}

    def validate_amount(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        kept = self._keep_earlier_answer("amount", tracker)
        return kept if kept is not None else self._checked("amount", value, dispatcher, tracker)

    def validate_monthly_income(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._checked("monthly_income", value, dispatcher, tracker)

    def validate_monthly_expense(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._checked("monthly_expense", value, dispatcher, tracker)

    def validate_overdue_duration(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._checked("overdue_duration", value, dispatcher, tracker)

    def validate_loan_type(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._checked("loan_type", value, dispatcher, tracker)

    def validate_bank(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        checked = self._checked("bank", value, dispatcher, tracker)
        bank = checked.get("bank")
        if bank and bank != planner.UNKNOWN:
            checked["bank"] = load_kb().canonical_bank(bank)
        return checked


class ValidateIncidentLogForm(ExplainingFormValidation):
    def name(self) -> Text:
        return "validate_incident_log_form"

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
