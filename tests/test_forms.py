"""Form validators and flow outputs, run as the action server runs them."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.advice.dialogue_kb import load_dialogue
from actions.advice.facts import LOAN_TYPES
from actions.flow_actions import ActionAssessCollector, ActionLogIncident, ActionMakeInstallmentPlan, ActionStartFlow
from actions.flows.collector_check import ANSWERS, CHOICE_FIELDS
from actions.form_validation import (
    CHOICE_WORDS,
    LOAN_TYPE_WORDS,
    ValidateCollectorCheckForm,
    ValidateIncidentLogForm,
    ValidateInstallmentPlanForm,
    parse_evidence,
    parse_headcount,
)

PLAN = "installment_plan_form"
CHECK = "collector_check_form"
INCIDENT = "incident_log_form"


def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, dispatcher.messages


def slots_set(events):
    """Slots the validator set (the SDK also names the next requested slot; that is not an answer)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"}


def texts(messages):
    return [m.get("text") or "" for m in messages]


def chat_texts(messages):
    """Texts of the chat messages (generated documents are whole, for copy and download)."""
    return [m.get("text") or "" for m in messages if not (m.get("custom") or {}).get("structured")]


def documents(messages):
    return [m["custom"]["structured"]["document"] for m in messages if (m.get("custom") or {}).get("structured")]


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
        text,
        "inform",
        slots={"requested_slot": requested},
        active_loop=PLAN,
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
    tracker = tracker_factory(
        text, "inform", slots={"requested_slot": requested}, active_loop=PLAN, slot_events={requested: slot_value}
    )
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
    assert not slots_set(events) and messages == []


def test_amount_said_during_another_question_keeps_the_debt(tracker_factory, domain):
    tracker = tracker_factory(
        "六千",
        "ask_fees_interest",
        slots={"requested_slot": "monthly_income"},
        active_loop=PLAN,
        history=["欠四万三"],
        slot_events={"amount": 6000, "monthly_income": 6000},
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
        ("collector_headcount", "inform", "来了四十个人", None, "40"),
        ("collector_threat_kind", "inform", "/inform", "lawful_pressure", "lawful_pressure"),
        ("collector_threat_kind", "inform", "说要起诉我，上征信", None, "lawful_pressure"),
        ("collector_threat_kind", "inform", "说要弄死我全家", None, "safety_or_insult"),
        ("collector_threat_kind", "deny", "没有", None, "none"),
        ("collector_entry", "inform", "我开门让他们进来的", None, "invited"),
        ("collector_entry", "inform", "他们硬闯进来的", None, "forced"),
        ("collector_entry", "inform", "让他走他就是不走", None, "refused_to_leave"),
        ("collector_third_party", "inform", "跟我妈说我欠钱不还", None, "disclosed"),
        ("collector_third_party", "inform", "就是让我爸叫我回电", None, "located_me"),
        ("collector_third_party", "inform", "/inform", "martian", None),
    ],
)
def test_collector_check_answers(requested, intent, text, slot_value, expected, tracker_factory, domain):
    tracker = tracker_factory(
        text,
        intent,
        slots={"requested_slot": requested},
        active_loop=CHECK,
        slot_events={requested: slot_value} if slot_value is not None else None,
    )
    events, _ = run(ValidateCollectorCheckForm(), tracker, domain)
    assert slots_set(events).get(requested) == expected


def test_free_text_answers_give_only_codes_the_form_accepts():
    assert set(CHOICE_WORDS) == set(CHOICE_FIELDS)
    for slot, words in CHOICE_WORDS.items():
        assert {value for value, _ in words} <= set(ANSWERS[slot]), slot
    assert {value for value, _ in LOAN_TYPE_WORDS} == set(LOAN_TYPES)


def test_bank_staff_are_not_asked_for_an_authorisation_letter(tracker_factory, domain):
    form = ValidateCollectorCheckForm()
    slots = ["collector_claims_to_be", "collector_showed_id", "collector_showed_authorisation"]
    bank = tracker_factory("x", "inform", slots={"collector_claims_to_be": "bank"})
    agency = tracker_factory("x", "inform", slots={"collector_claims_to_be": "agency"})
    assert "collector_showed_authorisation" not in asyncio.run(form.required_slots(slots, None, bank, domain))
    assert "collector_showed_authorisation" in asyncio.run(form.required_slots(slots, None, agency, domain))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("录音和截图", ["录音", "截图"]),
        ("有视频", ["录像"]),
        ("还没有", ["没有"]),
        ("录音，没有别的", ["录音"]),
        ("随便", None),
    ],
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
        text,
        "inform",
        slots={"requested_slot": requested},
        active_loop=INCIDENT,
        slot_events={requested: slot_value} if slot_value is not None else None,
    )
    events, _ = run(ValidateIncidentLogForm(), tracker, domain)
    assert slots_set(events).get(requested) == expected


def test_start_clears_the_forms_answers_but_keeps_the_facts(tracker_factory, domain):
    tracker = tracker_factory(
        "/start_installment_plan",
        "start_installment_plan",
        slots={"monthly_income": 5000, "monthly_expense": 2000, "amount": 40000, "collector_entry": "forced"},
    )
    events, _ = run(ActionStartFlow(), tracker, domain)
    changed = slots_set(events)
    assert "amount" not in changed and "monthly_income" not in changed  # facts are kept, not asked again
    assert changed["prefilled"] == ["amount", "monthly_income", "monthly_expense"]
    assert changed["facts_confirmed"] is None  # the form first shows them in one line
    assert changed["unfinished_flow"] == "installment_plan_form"


def test_start_prefills_the_collector_check_from_behaviours(tracker_factory, domain):
    tracker = tracker_factory(
        "/start_collector_check",
        "start_collector_check",
        slots={"behavior": ["冒充法院", "不出示证件", "拒不离开"], "collector_headcount": "2"},
    )
    changed = slots_set(run(ActionStartFlow(), tracker, domain)[0])
    assert changed["collector_claims_to_be"] == "court"
    assert changed["collector_showed_id"] == "no"
    assert changed["collector_entry"] == "refused_to_leave"
    assert changed["collector_headcount"] is None  # an earlier run's answer is cleared
    assert set(changed["prefilled"]) == {"collector_claims_to_be", "collector_showed_id", "collector_entry"}


def test_start_without_known_facts_asks_no_confirmation(tracker_factory, domain):
    changed = slots_set(run(ActionStartFlow(), tracker_factory("/start_incident_log", "start_incident_log"), domain)[0])
    assert changed["prefilled"] is None and changed["facts_confirmed"] == "yes"


def test_confirmation_is_asked_first_then_only_the_missing_facts(tracker_factory, domain):
    form = ValidateInstallmentPlanForm()
    slots = list(domain["forms"][PLAN]["required_slots"])
    pending = tracker_factory("x", "inform", slots={"prefilled": ["amount"], "facts_confirmed": None})
    assert asyncio.run(form.required_slots(slots, None, pending, domain))[0] == "facts_confirmed"
    done = tracker_factory("x", "inform", slots={"prefilled": ["amount"], "facts_confirmed": "yes"})
    assert "facts_confirmed" not in asyncio.run(form.required_slots(slots, None, done, domain))


def test_edit_at_the_confirmation_asks_each_fact_again(tracker_factory, domain):
    tracker = tracker_factory(
        "改一下",
        "deny",
        active_loop=PLAN,
        slots={
            "requested_slot": "facts_confirmed",
            "prefilled": ["amount", "bank"],
            "amount": 50000,
            "bank": "招商银行",
        },
        slot_events={"facts_confirmed": "edit"},
    )
    changed = slots_set(run(ValidateInstallmentPlanForm(), tracker, domain)[0])
    assert changed["amount"] is None and changed["bank"] is None
    assert changed["facts_confirmed"] == "yes" and changed["prefilled"] is None


def test_a_correction_at_the_confirmation_replaces_the_value_without_a_failure(tracker_factory, domain):
    tracker = tracker_factory(
        "其实是六万",
        "inform",
        active_loop=PLAN,
        slots={"requested_slot": "facts_confirmed", "prefilled": ["amount"]},
        slot_events={"amount": 60000},
    )
    changed = slots_set(run(ValidateInstallmentPlanForm(), tracker, domain)[0])
    assert changed["amount"] == 60000
    assert changed.get("form_failures") == 0 and "facts_confirmed" not in changed


def test_a_correction_read_as_a_yes_shows_the_line_again(tracker_factory, domain):
    # "其实是六万" can be classified affirm; the new amount means the review is not yet a yes.
    tracker = tracker_factory(
        "其实是六万",
        "affirm",
        active_loop=PLAN,
        slots={"requested_slot": "facts_confirmed", "prefilled": ["amount"]},
        slot_events={"amount": 60000, "facts_confirmed": "yes"},
    )
    changed = slots_set(run(ValidateInstallmentPlanForm(), tracker, domain)[0])
    assert changed["amount"] == 60000 and changed["facts_confirmed"] is None
    plain_yes = tracker_factory(
        "对",
        "affirm",
        active_loop=PLAN,
        slots={"requested_slot": "facts_confirmed", "prefilled": ["amount"], "amount": 50000},
        slot_events={"facts_confirmed": "yes"},
    )
    events = run(ValidateInstallmentPlanForm(), plain_yes, domain)[0]
    assert "facts_confirmed" not in slots_set(events)  # the yes stands
    assert [e["value"] for e in events if e.get("name") == "requested_slot"] != ["facts_confirmed"]


def test_collector_verdict_output(tracker_factory, domain):
    slots = {
        "collector_claims_to_be": "police",
        "collector_showed_id": "no",
        "collector_headcount": "1",
        "visit_at_night": "yes",
        "collector_threat_kind": "safety_or_insult",
        "collector_entry": "none",
        "collector_third_party": "none",
        "collector_demanded_personal_account": "yes",
        "bank": "招商银行",
    }
    events, messages = run(ActionAssessCollector(), tracker_factory("/deny", "deny", slots=slots), domain)
    joined = "\n".join(texts(messages))
    assert "很可能是诈骗" in joined and "400-820-5555" in joined and "110" in joined
    assert "《刑法》第二百七十九条" in joined
    assert all(len(t) <= 600 for t in texts(messages))
    assert slots_set(events)["case_verdict"]["level"] == "likely_scam"
    assert slots_set(events)["unfinished_flow"] is None


def test_collector_verdict_accepts_every_headcount_the_form_accepts(tracker_factory, domain):
    for headcount in ("1", "30", "31", "50"):
        slots = {"collector_claims_to_be": "bank", "collector_headcount": headcount}
        events, messages = run(ActionAssessCollector(), tracker_factory("x", "inform", slots=slots), domain)
        assert messages and "case_verdict" in slots_set(events)


def test_installment_output_has_plan_letter_script_checklist(tracker_factory, domain):
    slots = {
        "amount": 43000,
        "monthly_income": 6000,
        "monthly_expense": 2500,
        "overdue_duration": "unknown",
        "bank": "招商银行",
        "loan_type": "credit_card",
    }
    events, messages = run(ActionMakeInstallmentPlan(), tracker_factory("招行", "inform", slots=slots), domain)
    joined = "\n".join(texts(messages))
    assert "协商还款申请书" in joined and "43,000元" in joined and "6,000元" in joined
    assert "《商业银行信用卡业务监督管理办法》第七十条" in joined
    assert "停息挂账" in joined and "《民法典》第一百九十五条" in joined
    assert all(len(t) <= 600 for t in chat_texts(messages))
    (letter,) = documents(messages)
    assert letter["title"] == "协商还款申请书" and letter["filename"] == "协商还款申请书.txt"
    assert "43,000元" in letter["body"]
    assert slots_set(events)["case_plan"]["periods"] > 0


def test_income_unknown_reaches_the_plan(tracker_factory, domain):
    slots = {
        "amount": 43000,
        "monthly_income": "unknown",
        "monthly_expense": "unknown",
        "overdue_duration": 90,
        "bank": "招商银行",
        "loan_type": "credit_card",
    }
    _, messages = run(ActionMakeInstallmentPlan(), tracker_factory("不知道", "inform", slots=slots), domain)
    (letter,) = documents(messages)
    assert "【每期金额】" in letter["body"] and "【每月收入】" in letter["body"]


def test_installment_output_when_not_feasible(tracker_factory, domain):
    slots = {
        "amount": 600000,
        "monthly_income": 3000,
        "monthly_expense": 3500,
        "overdue_duration": 200,
        "bank": "unknown",
    }
    events, messages = run(ActionMakeInstallmentPlan(), tracker_factory("x", "inform", slots=slots), domain)
    joined = "\n".join(texts(messages))
    assert "协商还款申请书" not in joined and "12348" in joined


def test_incident_output_is_dated_cited_and_truthful(tracker_factory, domain):
    slots = {
        "incident_behaviors": ["辱骂", "泼油漆"],
        "incident_time": "昨晚十点",
        "incident_contacted": ["父母"],
        "incident_evidence": ["录音"],
    }
    events, messages = run(ActionLogIncident(), tracker_factory("录音", "inform", slots=slots), domain)
    joined = "\n".join(texts(messages))
    assert "昨晚十点" in joined and "《治安管理处罚法》第五十九条" in joined and "12378" in joined
    assert "殴打" not in joined
    assert all(len(t) <= 600 for t in chat_texts(messages))
    assert [d["title"] for d in documents(messages)] == ["催收情况记录", "给银行的投诉书", "给12378的投诉材料"]
    (record,) = slots_set(events)["case_incidents"]
    assert record["behaviors"] == ["辱骂", "泼油漆"] and record["when"] == "昨晚十点"
