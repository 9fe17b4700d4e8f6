"""Form validators and flow outputs, run as the action server runs them."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.flow_actions import ActionAssessCollector, ActionLogIncident, ActionMakeInstallmentPlan, ActionResetFlowSlots
from actions.form_validation import (
    ValidateCollectorCheckForm,
    ValidateIncidentLogForm,
    ValidateInstallmentPlanForm,
    parse_evidence,
    parse_headcount,
)
from actions.guidance.dialogue_kb import load_dialogue

PLAN = "installment_plan_form"
CHECK = "collector_check_form"
INCIDENT = "incident_log_form"


def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, dispatcher.messages


def slots_set(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(messages):
    return [m.get("text") or "" for m in messages]


@pytest.mark.parametrize(
    "requested, text, slot_value, expected",
    [
        ("amount", "欠了四万三", 43000, 43000),
        ("amount", "大概4.3w", None, 43000),
        ("amount", "两万五左右", None, 25000),
        ("monthly_income", "工资六千", 6000, 6000),
        ("monthly_income", "大概六千吧", None, 6000),
        ("monthly_income", "0", None, 0),
        ("monthly_expense", "房租加生活费三千", 3000, 3000),
        ("monthly_expense", "不知道", None, "unknown"),
        ("overdue_duration", "3个多月", None, 90),
        ("overdue_duration", "半年了", 180, 180),
        ("overdue_duration", "不清楚", None, "unknown"),
        ("bank", "招行的", "招商银行", "招商银行"),
        ("bank", "不想说", None, "unknown"),
    ],
)
def test_planner_accepts_good_answers(requested, text, slot_value, expected, tracker_factory, domain):
    tracker = tracker_factory(
        text, "inform", slots={"requested_slot": requested}, active_loop=PLAN,
        slot_events={requested: slot_value} if slot_value is not None else None,
    )
    events, _ = run(ValidateInstallmentPlanForm(), tracker, domain)
    assert slots_set(events)[requested] == expected
    assert slots_set(events)["form_failures"] == 0


@pytest.mark.parametrize(
    "requested, text, slot_value",
    [
        ("amount", "负五万", 50000),
        ("amount", "欠了一万亿", 10**12),
        ("monthly_income", "-3000", 3000),
        ("monthly_income", "负五千", 5000),
        ("monthly_expense", "一百万亿", 10**14),
    ],
)
def test_planner_rejects_bad_numbers_with_a_friendly_reask(requested, text, slot_value, tracker_factory, domain):
    tracker = tracker_factory(text, "inform", slots={"requested_slot": requested}, active_loop=PLAN, slot_events={requested: slot_value})
    events, messages = run(ValidateInstallmentPlanForm(), tracker, domain)
    assert slots_set(events)[requested] is None
    assert load_dialogue().messages["invalid_number"] in texts(messages)
    assert slots_set(events)["form_failures"] == 1


def test_second_failure_explains_and_offers_a_way_out(tracker_factory, domain):
    tracker = tracker_factory("呃", "inform", slots={"requested_slot": "amount", "form_failures": 1}, active_loop=PLAN)
    events, messages = run(ValidateInstallmentPlanForm(), tracker, domain)
    assert texts(messages) == [load_dialogue().explanations["amount"]]
    assert messages[0]["buttons"] == [{"title": load_dialogue().buttons["cancel"], "payload": "/cancel"}]
    assert slots_set(events) == {"form_failures": 0}


def test_first_failure_only_counts(tracker_factory, domain):
    tracker = tracker_factory("呃", "inform", slots={"requested_slot": "amount"}, active_loop=PLAN)
    events, messages = run(ValidateInstallmentPlanForm(), tracker, domain)
    assert messages == [] and slots_set(events) == {"form_failures": 1}


def test_another_question_is_left_to_the_rules(tracker_factory, domain):
    tracker = tracker_factory("催收能进我家吗", "ask_home_entry", slots={"requested_slot": "amount"}, active_loop=PLAN)
    events, messages = run(ValidateInstallmentPlanForm(), tracker, domain)
    assert not [e for e in events if e.get("event") == "slot"] and messages == []


def test_amount_said_during_another_question_keeps_the_debt(tracker_factory, domain):
    tracker = tracker_factory(
        "六千", "ask_fees_interest", slots={"requested_slot": "monthly_income"}, active_loop=PLAN,
        history=["欠四万三"], slot_events={"amount": 6000, "monthly_income": 6000},
    )
    tracker.events.insert(1, {"event": "slot", "name": "amount", "value": 43000})
    events, _ = run(ValidateInstallmentPlanForm(), tracker, domain)
    assert slots_set(events)["amount"] == 43000
    assert slots_set(events)["monthly_income"] == 6000


@pytest.mark.parametrize(
    "requested, intent, text, slot_value, expected",
    [
        ("collector_claims_to_be", "inform", "/inform", "agency", "agency"),
        ("collector_claims_to_be", "inform", "/inform", "martian", None),
        ("collector_showed_id", "affirm", "出示了", "yes", "yes"),
        ("collector_showed_id", "deny", "没有", "no", "no"),
        ("collector_showed_id", "inform", "我不清楚", None, "unsure"),
        ("collector_headcount", "inform", "来了两个人", None, "2"),
        ("collector_headcount", "inform", "/inform", "3", "3"),
        ("collector_headcount", "inform", "五百个", None, None),
    ],
)
def test_collector_check_answers(requested, intent, text, slot_value, expected, tracker_factory, domain):
    tracker = tracker_factory(
        text, intent, slots={"requested_slot": requested}, active_loop=CHECK,
        slot_events={requested: slot_value} if slot_value is not None else None,
    )
    events, _ = run(ValidateCollectorCheckForm(), tracker, domain)
    assert slots_set(events).get(requested) == expected


def test_bank_staff_are_not_asked_for_an_authorisation_letter(tracker_factory, domain):
    form = ValidateCollectorCheckForm()
    slots = ["collector_claims_to_be", "collector_showed_id", "collector_showed_authorisation"]
    bank = tracker_factory("x", "inform", slots={"collector_claims_to_be": "bank"})
    agency = tracker_factory("x", "inform", slots={"collector_claims_to_be": "agency"})
    assert "collector_showed_authorisation" not in asyncio.run(form.required_slots(slots, None, bank, domain))
    assert "collector_showed_authorisation" in asyncio.run(form.required_slots(slots, None, agency, domain))


@pytest.mark.parametrize(
    "text, expected",
    [("录音和截图", ["录音", "截图"]), ("有视频", ["录像"]), ("还没有", ["没有"]), ("录音，没有别的", ["录音"]), ("随便", None)],
)
def test_parse_evidence(text, expected):
    assert parse_evidence(text) == expected


@pytest.mark.parametrize("value, expected", [("2个人", 2), ("三个", 3), (1, 1), ("0", None), ("很多", None)])
def test_parse_headcount(value, expected):
    assert parse_headcount(value) == expected


@pytest.mark.parametrize(
    "requested, text, slot_value, expected",
    [
        ("incident_contacted", "没有", ["none"], ["none"]),
        ("incident_contacted", "打给我爸妈", ["父母"], ["父母"]),
        ("incident_evidence", "录音和截图", None, ["录音", "截图"]),
        ("incident_time", "昨晚十点", "昨晚十点", "昨晚十点"),
        ("incident_behaviors", "骂我", ["辱骂"], ["辱骂"]),
        ("incident_behaviors", "骂我", ["外星人"], None),
    ],
)
def test_incident_answers(requested, text, slot_value, expected, tracker_factory, domain):
    tracker = tracker_factory(
        text, "inform", slots={"requested_slot": requested}, active_loop=INCIDENT,
        slot_events={requested: slot_value} if slot_value is not None else None,
    )
    events, _ = run(ValidateIncidentLogForm(), tracker, domain)
    assert slots_set(events).get(requested) == expected


def test_restart_clears_answers_but_keeps_what_was_just_said(tracker_factory, domain):
    tracker = tracker_factory(
        "帮我算分期，我欠四万", "start_installment_plan",
        slots={"monthly_income": 5000, "monthly_expense": 2000}, slot_events={"amount": 40000},
    )
    events, _ = run(ActionResetFlowSlots(), tracker, domain)
    cleared = slots_set(events)
    assert cleared["monthly_income"] is None and cleared["monthly_expense"] is None
    assert "amount" not in cleared


def test_collector_verdict_output(tracker_factory, domain):
    slots = {
        "collector_claims_to_be": "police", "collector_showed_id": "no", "collector_headcount": "1",
        "visit_at_night": "yes", "collector_threatened": "yes", "collector_entered_or_stayed": "no",
        "collector_contacted_others": "no", "collector_demanded_personal_account": "yes", "bank": "招商银行",
    }
    events, messages = run(ActionAssessCollector(), tracker_factory("/deny", "deny", slots=slots), domain)
    joined = "\n".join(texts(messages))
    assert "违法或诈骗嫌疑" in joined and "400-820-5555" in joined and "110" in joined
    assert "《刑法》第二百七十九条" in joined
    assert all(len(t) <= 600 for t in texts(messages))


def test_installment_output_has_plan_letter_script_checklist(tracker_factory, domain):
    slots = {"amount": 43000, "monthly_income": 6000, "monthly_expense": 2500, "overdue_duration": "unknown", "bank": "招商银行"}
    events, messages = run(ActionMakeInstallmentPlan(), tracker_factory("招行", "inform", slots=slots), domain)
    joined = "\n".join(texts(messages))
    assert "协商还款申请书" in joined and "43,000元" in joined and "6,000元" in joined
    assert "《商业银行信用卡业务监督管理办法》第七十条" in joined
    assert "停息挂账" in joined
    assert all(len(t) <= 600 for t in texts(messages))


def test_installment_output_when_not_feasible(tracker_factory, domain):
    slots = {"amount": 600000, "monthly_income": 3000, "monthly_expense": 3500, "overdue_duration": 200, "bank": "unknown"}
    events, messages = run(ActionMakeInstallmentPlan(), tracker_factory("x", "inform", slots=slots), domain)
    joined = "\n".join(texts(messages))
    assert "协商还款申请书" not in joined and "12348" in joined


def test_incident_output_is_dated_cited_and_truthful(tracker_factory, domain):
    slots = {"incident_behaviors": ["辱骂", "泼油漆"], "incident_time": "昨晚十点", "incident_contacted": ["父母"], "incident_evidence": ["录音"]}
    events, messages = run(ActionLogIncident(), tracker_factory("录音", "inform", slots=slots), domain)
    joined = "\n".join(texts(messages))
    assert "昨晚十点" in joined and "《治安管理处罚法》第五十九条" in joined and "12378" in joined
    assert "殴打" not in joined
    assert all(len(t) <= 600 for t in texts(messages))
