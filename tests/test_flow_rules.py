"""What a message in the middle of a guided flow does: RulePolicy trained on data/rules, and Rasa's slot
extraction with domain.yml's mappings.

A question is answered as it is outside a flow, then the form runs again (it repeats its question);
cancel, goodbye and delete end the flow; another flow's start button switches to it. Only the leaving
rules are written per form (data/rules/flow_interruptions.yml): questions need none, so these tests
drive the trained policy instead of reading the rule files. An answer fills only the slot the form asked,
although several slots share one mapping (YAML anchors in domain.yml).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from actions.advice.kb import load_kb

ROOT = Path(__file__).resolve().parent.parent
STARTS = {
    "collector_check_form": "start_collector_check",
    "installment_plan_form": "start_installment_plan",
    "incident_log_form": "start_incident_log",
}
FORMS = tuple(STARTS)
ANSWERS = {
    **{intent: "action_give_guidance" for intent in load_kb().guidance},
    "bot_challenge": "utter_bot_challenge",
    "ask_capabilities": "utter_capabilities",
    "request_human": "utter_request_human",
    "ask_legal_basis": "action_show_legal_basis",
    "request_case_summary": "action_case_summary",
    "empty_message": "utter_empty_message",
}
ENDINGS = {"cancel": "action_cancel_flow", "goodbye": "utter_goodbye", "delete_my_data": "action_delete_my_data"}
RASA_DEFAULT_INTENTS = ("restart", "back", "session_start")  # Rasa's default actions, whatever the state


class Policy:
    """RulePolicy trained on data/rules and the domain, configured as in config.yml."""

    def __init__(self, tmp_path: Path) -> None:
        importer = TrainingDataImporter.load_from_config(
            str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data" / "rules")]
        )
        self.domain: Domain = importer.get_domain()
        trackers = TrainingDataGenerator(importer.get_stories(), self.domain, augmentation_factor=0).generate()
        config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
        (settings,) = [p for p in config["policies"] if p["name"] == "RulePolicy"]
        context = ExecutionContext(GraphSchema({}), "test-flow-rules")
        self.policy = RulePolicy.create(
            {**RulePolicy.get_default_config(), **{k: v for k, v in settings.items() if k != "name"}},
            LocalModelStorage(tmp_path),
            Resource("rule_policy"),
            context,
        )
        self.policy.train(trackers, self.domain)

    def _predict(self, events: List[Event]) -> Optional[str]:
        tracker = DialogueStateTracker.from_events("flow-rules", events, self.domain.slots)
        prediction = self.policy.predict_action_probabilities(tracker, self.domain)
        best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
        events.extend(prediction.events)
        # below the fallback threshold means "no rule": RulePolicy's own core fallback
        return self.domain.action_names_or_texts[best] if prediction.probabilities[best] > 0.5 else None

    def after(self, intent: str, form: Optional[str] = None) -> List[str]:
        """The actions run after the user's `intent` (while `form` asks its first question) until the bot
        waits for the user. A form that gets a message it cannot take as an answer rejects it."""
        events: List[Event] = [ActionExecuted("action_session_start"), ActionExecuted(ACTION_LISTEN_NAME)]
        if form:
            events += [
                UserUttered("/" + STARTS[form], {"name": STARTS[form]}),
                ActionExecuted("action_start_flow"),
                ActionExecuted(form),
                ActiveLoop(form),
                SlotSet(REQUESTED_SLOT, self.domain.required_slots_for_form(form)[1]),
                ActionExecuted(ACTION_LISTEN_NAME),
            ]
        events.append(UserUttered("…", {"name": intent, "confidence": 1.0}))
        actions: List[str] = []
        while len(actions) < 6:
            action = self._predict(events)
            if action is None or action == ACTION_LISTEN_NAME:
                return actions + [str(action)]
            if not actions and action == form and not any(isinstance(e, ActionExecutionRejected) for e in events):
                events.append(ActionExecutionRejected(form))
                continue
            actions.append(action)
            events.append(ActionExecuted(action))
            if action == "action_deactivate_loop":
                events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
            elif action in FORMS and actions[-2:-1] == ["action_start_flow"]:
                events.append(ActiveLoop(action))
        raise AssertionError(f"no end after {actions}")


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> Policy:
    return Policy(tmp_path_factory.mktemp("rule_policy"))


def _staying_intents(domain: Domain) -> List[str]:
    leaving = set(ENDINGS) | set(STARTS.values()) | set(RASA_DEFAULT_INTENTS)
    return [intent for intent in domain.intents if intent not in leaving]


@pytest.mark.parametrize("form", FORMS)
def test_every_question_is_answered_then_the_flow_asks_again(policy, form):
    staying = _staying_intents(policy.domain)
    assert set(ANSWERS) <= set(staying) and {"greet", "thank", "out_of_scope", "nlu_fallback"} <= set(staying)
    wrong: Dict[str, Any] = {}
    for intent in staying:
        outside = policy.after(intent)
        expected = [ANSWERS.get(intent, outside[0]), form, ACTION_LISTEN_NAME]
        if outside[0] != expected[0] or policy.after(intent, form) != expected:
            wrong[intent] = (policy.after(intent, form), "outside a flow:", outside)
    assert not wrong, wrong


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("intent", ENDINGS)
def test_cancel_goodbye_and_delete_end_the_flow(policy, form, intent):
    assert policy.after(intent, form) == ["action_deactivate_loop", ENDINGS[intent], ACTION_LISTEN_NAME]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("other", FORMS)
def test_a_start_button_switches_flows_or_restarts_this_one(policy, form, other):
    if other == form:
        expected = ["action_start_flow", form, ACTION_LISTEN_NAME]
    else:
        expected = ["action_deactivate_loop", "action_start_flow", other, ACTION_LISTEN_NAME]
    assert policy.after(STARTS[other], form) == expected


@pytest.mark.parametrize("form", FORMS)
def test_a_flow_starts_from_its_button(policy, form):
    assert policy.after(STARTS[form]) == ["action_start_flow", form, ACTION_LISTEN_NAME]


ANSWER_MESSAGES = {
    "a button": ("inform", [{"entity": "choice", "value": "x"}]),
    "a number": ("inform", [{"entity": "amount", "value": 5000}]),
    "yes": ("affirm", []),
    "no": ("deny", []),
}


def _values_set(
    domain: Domain, form: str, requested: str, intent: str, entities: Optional[List[dict]] = None
) -> Dict[str, Any]:
    """The slots Rasa's slot extraction sets for this message while `form` asks `requested`."""
    events = [
        ActionExecuted(ACTION_LISTEN_NAME),
        ActiveLoop(form),
        SlotSet(REQUESTED_SLOT, requested),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("…", {"name": intent, "confidence": 1.0}, entities or []),
    ]
    tracker = DialogueStateTracker.from_events("mappings", events, domain.slots)
    extract = ActionExtractSlots(None).run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain
    )
    return {event.key: event.value for event in asyncio.run(extract) if isinstance(event, SlotSet)}


def _slots_set(domain: Domain, form: str, requested: str, intent: str, entities: List[dict]) -> set:
    return set(_values_set(domain, form, requested, intent, entities))


def _maps(domain: Domain, slot: str, intent: str, entities: List[dict], conditioned: bool) -> bool:
    for mapping in domain.as_dict()["slots"][slot]["mappings"]:
        if bool(mapping.get("conditions")) != conditioned:
            continue
        if mapping.get("intent") == intent or any(mapping.get("entity") == e["entity"] for e in entities):
            return True
    return False


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("message", ANSWER_MESSAGES)
def test_an_answer_fills_only_the_slot_the_form_asked(policy, form, message):
    """Facts mapped in any turn (an amount -> `amount`) may be set too; no other question of the form."""
    domain, (intent, entities) = policy.domain, ANSWER_MESSAGES[message]
    slots = domain.required_slots_for_form(form)
    facts = {slot for slot in slots if _maps(domain, slot, intent, entities, conditioned=False)}
    answered = []
    for requested in slots:
        filled = _slots_set(domain, form, requested, intent, entities) & set(slots)
        assert filled <= {requested} | facts, (requested, filled)
        if _maps(domain, requested, intent, entities, conditioned=True):
            assert requested in filled, requested
            answered.append(requested)
    assert answered or message == "a number" and form != "installment_plan_form", "nothing answered"


@pytest.mark.parametrize("form", FORMS)
def test_an_answer_by_intent_fills_a_list_slot_with_plain_values(policy, form):
    """Rasa wraps a from_intent value for a list slot: `value: ["none"]` would store [["none"]],
    which the form's validator refuses (the question was asked again after "没有")."""
    domain = policy.domain
    slots = {slot.name: slot for slot in domain.slots}
    checked = 0
    for requested in domain.required_slots_for_form(form):
        for mapping in domain.as_dict()["slots"][requested]["mappings"]:
            if mapping.get("type") != "from_intent" or slots[requested].type_name != "list":
                continue
            value = _values_set(domain, form, requested, mapping["intent"]).get(requested)
            assert isinstance(value, list) and all(isinstance(v, str) for v in value), (requested, value)
            checked += 1
    if form == "incident_log_form":
        assert checked and _values_set(domain, form, "incident_contacted", "deny")["incident_contacted"] == ["none"]
