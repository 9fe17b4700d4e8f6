"""The conversation around the advice: remembered facts, offers taken by "好" or a number,
the conversation's script, the case summary and a returning user's welcome."""

from __future__ import annotations

import asyncio
import re
from datetime import date

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.advice.dialogue_kb import load_dialogue
from actions.advice.facts import ENTITY, FACT_KINDS, MESSAGE, NUMBERS, REMEMBERED_FACTS, TEXTS, Facts, facts_from
from actions.advice.kb import load_kb
from actions.case_actions import ActionCaseSummary, ActionNoteFacts, ActionRespondAffirm, ActionSessionStart
from actions.flows.case_summary import CaseRecords, case_summary
from actions.guidance_actions import ActionGiveGuidance
from actions.tracker_facts import current_facts, wants_traditional
from addons.patches.offer_choice import chosen_payload, is_bare_yes, option_number

KB = load_kb()
DIALOGUE = load_dialogue()
LEGAL_BASIS = {"title": "查看法律依据", "payload": "/ask_legal_basis"}
INCIDENT_OFFER = {"title": "记录骚扰并生成投诉", "payload": "/start_incident_log"}
ALSO = {"title": "你还提到：联系家人朋友单位", "payload": "/ask_third_party_contact"}
IDENTIFIER = re.compile(r"1[3-9]\d{9}|\d{17}[\dXx]|\d{16,19}")


def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, dispatcher.messages


def slots_set(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def with_bot_message(tracker, buttons):
    """Put a bot message with these buttons just before the latest user message."""
    tracker.events.insert(len(tracker.events) - 1, {"event": "bot", "text": "…", "data": {"buttons": buttons}})
    return tracker


# ---- offers: a number or a bare yes takes the button ----------------------------------------


@pytest.mark.parametrize(
    "text, number",
    [
        ("1", 1),
        ("２", 2),
        ("②", 2),
        ("第二个", 2),
        ("选3", 3),
        (" 2 ", 2),
        ("38000", None),
        ("12", None),
        ("二万", None),
        ("好", None),
    ],
)
def test_option_number(text, number):
    assert option_number(text) == number


@pytest.mark.parametrize(
    "text, yes",
    [
        ("好", True),
        ("好的！", True),
        ("可以", True),
        ("嗯嗯", True),
        ("行", True),
        ("要", True),
        ("OK", True),
        ("👌", True),
        ("好的，但是我欠了3万", False),
        ("不好", False),
        ("", False),
    ],
)
def test_bare_yes(text, yes):
    assert is_bare_yes(text) is yes


def test_a_number_takes_that_button_and_a_yes_takes_the_only_offer():
    buttons = [LEGAL_BASIS, INCIDENT_OFFER]
    assert chosen_payload("1", buttons) == "/ask_legal_basis"
    assert chosen_payload("2", buttons) == "/start_incident_log"
    assert chosen_payload("好", buttons) == "/start_incident_log"
    assert chosen_payload("3", buttons) is None  # more than the options: an answer of its own
    assert chosen_payload("38000", buttons) is None
    assert chosen_payload("好", [INCIDENT_OFFER, ALSO]) is None  # two offers: the affirm action asks which
    assert chosen_payload("好", [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}]) is None
    assert chosen_payload("1", [{"title": "是", "payload": "/affirm"}]) == "/affirm"
    assert chosen_payload("好", []) is None


def test_a_yes_with_several_offers_asks_which(tracker_factory, domain):
    tracker = with_bot_message(tracker_factory("好", "affirm"), [LEGAL_BASIS, INCIDENT_OFFER, ALSO])
    _, messages = run(ActionRespondAffirm(), tracker, domain)
    assert messages[0]["text"] == DIALOGUE.messages["choose_offer"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/start_incident_log", "/ask_third_party_contact"]


def test_a_yes_without_offers_invites_a_description(tracker_factory, domain):
    _, messages = run(ActionRespondAffirm(), tracker_factory("好", "affirm"), domain)
    assert messages[0]["text"] == DIALOGUE.messages["inform_ack"]


# ---- the conversation's script ---------------------------------------------------------------


@pytest.mark.parametrize("latest", ["好", "1", "38000", "嗯嗯", "/start_incident_log"])
def test_messages_without_a_script_keep_the_conversations(latest, tracker_factory):
    tracker = tracker_factory(latest, "affirm", history=["催收員天天打電話罵我，我想投訴"])
    assert wants_traditional(tracker)
    simplified = tracker_factory(latest, "affirm", history=["催收员天天打电话骂我"])
    assert not wants_traditional(simplified)


def test_the_script_slot_stands_in_when_no_message_has_one(tracker_factory):
    assert wants_traditional(tracker_factory("好", "affirm", slots={"script": "traditional"}))


def test_a_yes_keeps_traditional(tracker_factory, domain):
    tracker = with_bot_message(
        tracker_factory("好", "affirm", history=["還打給我同事"]), [LEGAL_BASIS, INCIDENT_OFFER, ALSO]
    )
    _, messages = run(ActionRespondAffirm(), tracker, domain)
    assert messages[0]["text"] != DIALOGUE.messages["choose_offer"] and "哪一個" in messages[0]["text"]


# ---- facts remembered across turns -------------------------------------------------------------


def test_the_domain_remembers_each_fact_as_the_facts_say(domain):
    """Each remembered fact has its slot: an entity's fills from that entity, the others are set by actions."""
    slots = domain["slots"]
    for name in REMEMBERED_FACTS:
        mappings = slots[name]["mappings"]
        if name in facts_from(ENTITY):
            assert ("from_entity", name) in [(m["type"], m.get("entity")) for m in mappings], name
        else:
            assert "custom" in [m["type"] for m in mappings], name
        assert (slots[name]["type"] == "list") is (FACT_KINDS[name] in (TEXTS, NUMBERS)), name
    assert not set(facts_from(MESSAGE)) & set(slots)


def test_list_facts_are_merged_over_turns(tracker_factory):
    tracker = tracker_factory(
        "还去我单位闹",
        "report_harassment",
        slots={"relation": ["父母"], "behavior": ["辱骂"]},
        entities=[{"entity": "relation", "value": "单位"}],
    )
    facts, events = current_facts(tracker)
    assert facts.relation == ("父母", "单位") and facts.behavior == ("辱骂",)
    assert slots_set(events) == {"relation": ["父母", "单位"]}


def test_several_debts_are_summed_and_remembered(tracker_factory):
    tracker = tracker_factory(
        "招行3万，浦发2万5",
        "ask_criminal_risk",
        slots={"amount": 25000},
        entities=[{"entity": "amount", "value": 30000}, {"entity": "amount", "value": 25000}],
    )
    tracker.latest_message["derived_facts"] = {"amount_total": 55000, "amount_parts": [30000, 25000]}
    facts, events = current_facts(tracker)
    assert facts.amount == 55000 and facts.amount_parts == (30000, 25000)
    assert slots_set(events)["amount"] == 55000


def test_a_correction_replaces_the_earlier_value_and_is_acknowledged(tracker_factory, domain):
    tracker = tracker_factory(
        "其实是六万",
        "inform",
        slots={"amount": 60000, "amount_parts": [30000, 25000]},
        entities=[{"entity": "amount", "value": 60000}],
    )
    events, messages = run(ActionNoteFacts(), tracker, domain)
    assert "欠款约6万元" in messages[0]["text"]
    assert slots_set(events)["amount_parts"] is None  # the one new amount replaces the earlier sum


def test_derived_facts_are_remembered(tracker_factory):
    tracker = tracker_factory("判决书下来了，我没钱还", "ask_lawsuit")
    tracker.latest_message["derived_facts"] = {
        "court_stage": "judgment",
        "can_pay": "no",
        "loan_type": "online_lending",
    }
    facts, events = current_facts(tracker)
    assert (facts.court_stage, facts.can_pay, facts.loan_type) == ("judgment", "no", "online_lending")
    assert {"court_stage", "can_pay", "loan_type"} <= set(slots_set(events))


def test_a_mainland_lender_brings_a_taiwan_conversation_back_to_mainland_law(tracker_factory):
    tracker = tracker_factory(
        "我欠招行的卡",
        "ask_lawsuit",
        slots={"jurisdiction": "taiwan"},
        entities=[{"entity": "bank", "value": "招商银行"}],
    )
    facts, _ = current_facts(tracker)
    assert not facts.outside_mainland


# ---- several worries ------------------------------------------------------------------------------


def test_a_second_worry_gets_one_line_and_a_button(tracker_factory, domain):
    tracker = tracker_factory("上门的人说是银行的，还说要去我单位", "ask_collector_legitimacy")
    tracker.latest_message["secondary_intents"] = [{"name": "ask_third_party_contact", "confidence": 0.8}]
    _, messages = run(ActionGiveGuidance(), tracker, domain)
    title = KB.guidance["ask_third_party_contact"].title
    assert KB.labels["also_mentioned"].format(title=title) in messages[0]["text"]
    assert {"title": KB.labels["also_button"].format(title=title), "payload": "/ask_third_party_contact"} in messages[
        0
    ]["buttons"]


def test_weak_or_same_secondary_worries_are_not_mentioned(tracker_factory, domain):
    tracker = tracker_factory("上门的人说是银行的", "ask_collector_legitimacy")
    tracker.latest_message["secondary_intents"] = [
        {"name": "ask_collector_legitimacy", "confidence": 0.9},
        {"name": "ask_lawsuit", "confidence": 0.2},
    ]
    _, messages = run(ActionGiveGuidance(), tracker, domain)
    assert "你还提到" not in messages[0]["text"]


# ---- a wish to complain starts the complaint path ---------------------------------------------------


def test_i_want_to_complain_starts_the_incident_log_prefilled(tracker_factory, domain):
    tracker = tracker_factory(
        "催收員天天打電話罵我，還打給我同事，我想投訴",
        "ask_complaint",
        entities=[{"entity": "behavior", "value": "辱骂"}, {"entity": "relation", "value": "同事"}],
    )
    tracker.latest_message["text"] = "催收员天天打电话骂我，还打给我同事，我想投诉"  # the NLU's normalised text
    events, messages = run(ActionGiveGuidance(), tracker, domain)
    assert messages == []  # no answer about one behaviour: the flow's first question follows
    assert {"event": "followup", "name": "incident_log_form", "timestamp": None} in events
    changed = slots_set(events)
    assert changed["incident_behaviors"] == ["辱骂"] and changed["incident_contacted"] == ["同事"]


def test_a_question_about_how_to_complain_gets_the_advice(tracker_factory, domain):
    events, messages = run(ActionGiveGuidance(), tracker_factory("怎么投诉催收", "ask_complaint"), domain)
    assert messages and "12378" in messages[0]["text"]
    assert not any(e.get("event") == "followup" for e in events)


# ---- the case summary --------------------------------------------------------------------------------

RECORDS = CaseRecords(
    advice=(
        {
            "intent": "ask_criminal_risk",
            "title": "会不会坐牢",
            "date": "2026-11-20",
            "citations": ["《妨害信用卡管理刑事案件解释》第八条", "《刑法》第一百九十六条"],
        },
    ),
    verdict={
        "date": "2026-11-21",
        "level": "verify_official",
        "label": "自称法院或警察：先独立核实，是真的就配合",
        "citations": ["《民事诉讼法》第八十八条"],
    },
    plan={
        "date": "2026-11-22",
        "summary": "建议申请分24期，每期约2,300元。",
        "periods": 24,
        "monthly": 2300,
        "citations": ["《商业银行信用卡业务监督管理办法》第七十条"],
    },
    incidents=(
        {
            "date": "2026-11-19",
            "when": "昨晚十点",
            "behaviors": ["辱骂", "门外不走"],
            "contacted": ["父母"],
            "evidence": ["录音"],
            "citations": ["《治安管理处罚法》第五十条"],
        },
    ),
)
FACTS = Facts(
    bank="招商银行",
    banks=("招商银行", "浦发银行"),
    amount=55000,
    amount_parts=(30000, 25000),
    monthly_income=6000,
    overdue_duration=90,
    relation=("父母",),
    behavior=("辱骂",),
    loan_type="credit_card",
)


def test_summary_holds_every_part_of_the_case():
    text = case_summary(FACTS, RECORDS, date(2026, 11, 23))
    for expected in (
        "我的情况摘要（2026年11月23日）",
        "招商银行、浦发银行",
        "5.5万元",
        "3万元、2.5万元",
        "信用卡",
        "3个月",
        "父母",
        "辱骂我",
        "2026年11月19日记录：发生时间昨晚十点",
        "在我家门外守着不走",
        "录音",
        "2026年11月21日：自称法院或警察",
        "2026年11月22日：建议申请分24期",
        "会不会坐牢：《妨害信用卡管理刑事案件解释》第八条",
        "12348",
        "12378",
        "110",
    ):
        assert expected in text, expected
    assert not IDENTIFIER.search(text)


def test_summary_cites_only_provisions_that_exist():
    citations = {p.citation for p in KB.provisions.values()}
    records = (*RECORDS.advice, *RECORDS.incidents, RECORDS.verdict, RECORDS.plan)
    assert {c for record in records for c in record["citations"]} <= citations
    found = re.findall(
        r"《[^》]+》(?:第[零一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?)?",
        case_summary(FACTS, RECORDS, date(2026, 11, 23)),
    )
    assert found and set(found) <= citations


def test_summary_of_an_empty_case_says_so():
    text = case_summary(Facts(), CaseRecords(), date(2026, 11, 23))
    assert text.count("暂无") == 5 and "12348" in text


def test_summary_action_sends_a_document_in_the_users_script(tracker_factory, domain):
    slots = {
        "amount": 55000,
        "bank": "招商银行",
        "case_plan": dict(RECORDS.plan),
        "case_incidents": list(RECORDS.incidents),
    }
    tracker = tracker_factory("生成我的情況摘要", "request_case_summary", slots=slots)
    _, messages = run(ActionCaseSummary(), tracker, domain)
    document = messages[-1]["custom"]["structured"]["document"]
    assert document["title"] == "我的情況摘要" and document["filename"].endswith(".txt")
    assert "欠款合計約5.5萬元" in document["body"]


def test_summary_is_offered_with_a_request_for_a_human(domain):
    (response,) = domain["responses"]["utter_request_human"]
    assert {"title": "生成我的情况摘要", "payload": "/request_case_summary"} in response["buttons"]


# ---- a returning user -------------------------------------------------------------------------------


def test_a_returning_user_is_offered_the_unfinished_flow(tracker_factory, domain):
    tracker = tracker_factory(
        "在吗",
        "greet",
        history=["帮我算分期"],
        slots={"unfinished_flow": "installment_plan_form", "amount": 43000, "requested_slot": "x"},
    )
    events, messages = run(ActionSessionStart(), tracker, domain)
    assert events[0]["event"] == "session_started"
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
    carried = slots_set(events)
    assert carried["amount"] == 43000 and "requested_slot" not in carried
    assert "分期方案" in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == '/start_installment_plan{"choice": "resume"}'


def test_a_new_user_or_a_second_session_start_gets_no_welcome_back(tracker_factory, domain):
    tracker = tracker_factory("", "session_start", slots={"unfinished_flow": "installment_plan_form"})
    tracker.events.clear()
    assert run(ActionSessionStart(), tracker, domain)[1] == []
    again = tracker_factory(
        "/session_start", "session_start", history=["帮我算分期"], slots={"unfinished_flow": "installment_plan_form"}
    )
    assert run(ActionSessionStart(), again, domain)[1] == []


REQUESTS = [
    ("帮我算一下分期方案", "start_installment_plan"),
    ("替我起草一份个性化分期申请", "start_installment_plan"),
    ("帮我把还款计划写出来", "start_installment_plan"),
    ("生成一份协商还款的申请书给我", "start_installment_plan"),
    ("我想投诉", "start_incident_log"),
    ("帮我写一份举报催收的信", "start_incident_log"),
    ("帮我把今天催收来家里的情况记录一下", "start_incident_log"),
    ("我想整理一份材料去投诉", "start_incident_log"),
    ("帮我判断一下上门的人是不是正规催收", "start_collector_check"),
    ("帮我看看这个催收号码正规不正规", "start_collector_check"),
]
NOT_REQUESTS = [
    "怎么跟银行协商分期",
    "怎么投诉催收",
    "投诉电话是多少",
    "银行给我做了分期还能再协商吗",
    "我算了一下每个月要还三千",
    "上门的人是真的银行的吗",
    "怎么核实催收的身份",
    "这算不算恶意透支",
]


@pytest.mark.parametrize("text, offer", REQUESTS)
def test_an_outright_request_names_its_flow(text, offer):
    assert KB.requested_flow(text) == offer


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_a_question_about_a_topic_is_not_a_flow_request(text):
    assert KB.requested_flow(text) is None
