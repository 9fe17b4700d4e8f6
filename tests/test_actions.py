"""The SDK actions against real domain trackers and the real knowledge base."""

from __future__ import annotations

import asyncio

import pytest

from actions.advice.dialogue_kb import load_dialogue
from actions.advice.kb import load_kb
from actions.guidance_actions import ActionClarify, ActionGiveGuidance, ActionShowLegalBasis

ADVISORY = sorted(load_kb().guidance)


def run(action, dispatcher, tracker, domain):
    return asyncio.run(action.run(dispatcher, tracker, domain))


@pytest.mark.parametrize("intent", ADVISORY)
def test_guidance_answers_every_advisory_intent(intent, tracker_factory, dispatcher, domain):
    events = run(ActionGiveGuidance(), dispatcher, tracker_factory("问一下", intent), domain)
    assert dispatcher.messages, intent
    text = dispatcher.messages[0]["text"]
    assert "《" in text and "》" in text
    assert all(len(m["text"]) <= 600 for m in dispatcher.messages)
    assert {"event": "slot", "name": "last_topic", "value": intent, "timestamp": None} in events


def test_disclaimer_only_once(tracker_factory, dispatcher, domain):
    kb = load_kb()
    first = tracker_factory("催收能进我家吗", "ask_home_entry")
    run(ActionGiveGuidance(), dispatcher, first, domain)
    assert kb.labels["disclaimer"] in dispatcher.messages[0]["text"]
    later = tracker_factory("催收能进我家吗", "ask_home_entry", slots={"disclaimer_shown": True})
    second = type(dispatcher)()
    run(ActionGiveGuidance(), second, later, domain)
    assert kb.labels["disclaimer"] not in second.messages[0]["text"]


def test_bank_slot_tailors_the_answer(tracker_factory, dispatcher, domain):
    tracker = tracker_factory("上门的人说是招行的，是真的吗", "ask_collector_legitimacy", slots={"bank": "招商银行"})
    run(ActionGiveGuidance(), dispatcher, tracker, domain)
    assert "400-820-5555" in dispatcher.messages[0]["text"]


def test_traditional_user_gets_traditional_answer(tracker_factory, dispatcher, domain):
    tracker = tracker_factory("催收的人能進我家嗎", "ask_home_entry")
    run(ActionGiveGuidance(), dispatcher, tracker, domain)
    text = dispatcher.messages[0]["text"]
    assert "法律依據" in text and "條" in text
    assert "进" not in text


def test_button_payload_keeps_script_of_last_chinese_text(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(
        "/ask_legal_basis", "ask_legal_basis", slots={"last_topic": "ask_home_entry"}, history=["催收的人能進我家嗎"]
    )
    run(ActionShowLegalBasis(), dispatcher, tracker, domain)
    assert dispatcher.messages and "條" in dispatcher.messages[0]["text"]


def test_legal_basis_without_topic_asks_for_one(tracker_factory, dispatcher, domain):
    run(ActionShowLegalBasis(), dispatcher, tracker_factory("法律依据是什么", "ask_legal_basis"), domain)
    assert dispatcher.messages[0]["text"] == load_dialogue().messages["no_legal_basis_topic"]


def test_legal_basis_quotes_every_provision(tracker_factory, dispatcher, domain):
    tracker = tracker_factory("依据呢", "ask_legal_basis", slots={"last_topic": "ask_home_entry"})
    run(ActionShowLegalBasis(), dispatcher, tracker, domain)
    joined = "\n".join(m["text"] for m in dispatcher.messages)
    for provision in load_kb().guidance["ask_home_entry"].provisions:
        assert load_kb().provisions[provision].quote.split("…")[0] in joined


def test_clarify_offers_top_topics_as_buttons(tracker_factory, dispatcher, domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_home_entry", "confidence": 0.25},
        {"name": "greet", "confidence": 0.2},
        {"name": "emergency_now", "confidence": 0.2},
        {"name": "ask_evidence", "confidence": 0.1},
        {"name": "ask_lawsuit", "confidence": 0.05},
    ]
    tracker = tracker_factory("门口", "nlu_fallback", ranking=ranking)
    run(ActionClarify(), dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["text"] == load_dialogue().messages["clarify"]
    assert [b["payload"] for b in message["buttons"]] == ["/ask_home_entry", "/emergency_now", "/ask_evidence"]
    assert all(b["title"] for b in message["buttons"])


def test_clarify_without_advisory_candidates_offers_main_topics(tracker_factory, dispatcher, domain):
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "greet", "confidence": 0.3}]
    run(ActionClarify(), dispatcher, tracker_factory("嗯", "nlu_fallback", ranking=ranking), domain)
    assert len(dispatcher.messages[0]["buttons"]) == 3


def test_clarify_in_traditional(tracker_factory, dispatcher, domain):
    ranking = [{"name": "ask_home_entry", "confidence": 0.3}]
    run(ActionClarify(), dispatcher, tracker_factory("門口那個", "nlu_fallback", ranking=ranking), domain)
    message = dispatcher.messages[0]
    assert message["text"] != load_dialogue().messages["clarify"]
    assert message["buttons"][0]["payload"] == "/ask_home_entry"


def test_truncated_message_gets_a_note_before_the_answer(tracker_factory, dispatcher, domain):
    tracker = tracker_factory("催收能进我家吗" * 10, "ask_home_entry")
    tracker.latest_message["input_truncated"] = True
    run(ActionGiveGuidance(), dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"] == load_dialogue().messages["message_truncated"]
    assert "《" in dispatcher.messages[1]["text"]
