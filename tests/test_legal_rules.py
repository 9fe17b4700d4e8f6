"""The legal rules of issue 10, each with the facts that switch it (legal_facts.md §15)."""

from __future__ import annotations

import pytest

from actions.advice.engine import advise
from actions.advice.facts import LOAN_TYPES, Facts
from actions.advice.kb import load_kb
from actions.advice.render import render_advice

KB = load_kb()
CARD_ONLY = {pid for pid, p in KB.provisions.items() if p.card_only}
LOANS = [t for t in LOAN_TYPES if t != "credit_card"]


def ids(advice):
    return [p.id for p in advice.provisions]


def text(advice):
    return render_advice(advice, kb=KB)[0].text


# ---- a court or the police at the door -------------------------------------------------------


def test_a_court_claim_is_verified_and_obeyed_not_called_a_scam():
    advice = advise("ask_collector_legitimacy", Facts(behavior=("冒充法院",)), KB)
    body = text(advice)
    assert "12368" in body and "接收文书" in body and "视为送达" in body
    assert "诈骗" not in body
    assert {"civ_proc_88", "civ_proc_89"} <= set(ids(advice))


def test_a_court_claim_with_a_transfer_demand_is_fraud():
    advice = advise(
        "ask_collector_legitimacy", Facts(behavior=("冒充法院", "转账私人账户"), alerts=("fake_authority",)), KB
    )
    assert "诈骗" in advice.answer and "12368" in advice.answer and "110" in advice.answer
    assert ids(advice)[0] == "criminal_law_279"


@pytest.mark.parametrize(
    "intent", ["ask_collector_legitimacy", "ask_fake_documents", "ask_criminal_risk", "ask_lawsuit", "emergency_now"]
)
def test_a_fake_authority_alert_leads_with_fraud_whatever_the_topic(intent):
    advice = advise(intent, Facts(alerts=("fake_authority",)), KB)
    assert "诈骗" in advice.answer and "110" in advice.answer


def test_police_may_genuinely_call_after_a_bank_report():
    advice = advise("ask_criminal_risk", Facts(behavior=("冒充警察",)), KB)
    assert any("警察确实可能" in n for n in advice.notes)
    assert "bank_card_rules_3" in ids(advice)


def test_police_for_a_loan_are_verified_without_the_card_report_rule():
    advice = advise("ask_criminal_risk", Facts(behavior=("冒充警察",), loan_type="online_lending"), KB)
    assert not any("银行报案" in n for n in advice.notes) and any("110" in n for n in advice.notes)
    assert "bank_card_rules_3" not in ids(advice)


def test_home_entry_tells_a_collector_from_a_court_with_a_search_order():
    advice = advise("ask_home_entry", Facts(), KB)
    assert "搜查令" in advice.answer and "civ_proc_259" in ids(advice)
    assert any("12368" in s for s in advice.steps)


# ---- a lawsuit and after the judgment ----------------------------------------------------------


def test_a_lawsuit_answer_says_to_respond_or_be_judged_in_absence():
    advice = advise("ask_lawsuit", Facts(), KB)
    assert "缺席判决" in advice.answer and "civ_proc_147" in ids(advice)


def test_after_a_judgment_enforcement_and_the_blacklist_are_explained():
    advice = advise("ask_lawsuit", Facts(court_stage="judgment"), KB)
    assert "强制执行" in advice.answer and "限制高消费" in advice.answer and "失信" in advice.answer
    assert any("zxgk.court.gov.cn" in s for s in advice.steps)
    assert {"civ_proc_266", "sc_dishonest_list_1", "sc_high_consumption_1"} <= set(ids(advice))
    assert "civ_proc_147" not in ids(advice)  # the trial is over


def test_a_judgment_debtor_who_cannot_pay_is_not_blacklisted_for_owing():
    advice = advise("ask_lawsuit", Facts(court_stage="judgment", can_pay="no"), KB)
    assert any("不会只因为欠钱" in n for n in advice.notes)
    assert "criminal_law_313" not in ids(advice)


def test_a_judgment_debtor_who_can_pay_and_refuses_risks_the_crime():
    advice = advise("ask_lawsuit", Facts(court_stage="judgment", can_pay="yes"), KB)
    assert any("拒不执行判决、裁定罪" in n for n in advice.notes)
    assert {"civ_proc_114", "criminal_law_313"} <= set(ids(advice))


def test_the_blacklist_needs_a_judgment_first():
    advice = advise("ask_fake_documents", Facts(), KB)
    assert "没有法院判决，就不会有失信名单" in advice.answer
    assert any("盖章" in s for s in advice.steps) and "card_rules_69" in ids(advice)


# ---- loan types ----------------------------------------------------------------------------------


@pytest.mark.parametrize("behavior", [(), ("冒充警察",)])  # the police note of a card cites a bank's report
@pytest.mark.parametrize("loan_type", LOANS)
@pytest.mark.parametrize("intent", sorted(KB.guidance))
def test_card_rules_never_apply_to_a_loan(intent, loan_type, behavior):
    advice = advise(intent, Facts(loan_type=loan_type, amount=80000, behavior=behavior), KB)
    assert not CARD_ONLY & set(ids(advice)), (intent, loan_type)
    assert advice.provisions, f"{intent} for a {loan_type} cites nothing"
    assert "恶意透支" not in advice.answer + "".join(advice.notes) or "不适用" in advice.answer


@pytest.mark.parametrize("loan_type", ["bank_loan", "online_lending", "private_loan"])
def test_not_paying_a_loan_is_civil(loan_type):
    advice = advise("ask_criminal_risk", Facts(loan_type=loan_type, amount=80000), KB)
    assert "民事纠纷" in advice.answer and "不适用" in advice.answer
    assert not any("5万" in n for n in advice.notes)


def test_illegal_lenders_collecting_by_threats_are_reported_to_the_police():
    advice = advise("report_harassment", Facts(loan_type="illegal_loan"), KB)
    assert any("催收非法债务罪" in n for n in advice.notes)
    assert "criminal_law_293_1" in ids(advice) and "police" in [h.id for h in advice.help]


def test_installments_for_a_card_cite_article_70_and_for_a_loan_do_not():
    card = advise("ask_installment_negotiation", Facts(loan_type="credit_card"), KB)
    loan = advise("ask_installment_negotiation", Facts(loan_type="online_lending"), KB)
    assert "card_rules_70" in ids(card) and "card_rules_70" not in ids(loan)
    assert "信用卡那样的个性化分期条文" in loan.answer


# ---- amounts over several cards -------------------------------------------------------------------


def test_two_cards_adding_up_over_5_wan_are_judged_by_the_total():
    advice = advise("ask_criminal_risk", Facts(amount=55000, amount_parts=(30000, 25000)), KB)
    assert "band" in advice.variants and "below_threshold" not in advice.variants
    assert any("合计5.5万元" in n and "所有卡" in n for n in advice.notes)


def test_each_card_below_5_wan_does_not_hide_the_total():
    advice = advise("ask_criminal_risk", Facts(amount=45000, amount_parts=(30000, 15000)), KB)
    assert "below_threshold" in advice.variants


# ---- conduct: outside vs inside, lawful vs unlawful ------------------------------------------------


def test_lingering_outside_is_harassment_and_entering_is_intrusion():
    outside = advise("ask_home_entry", Facts(behavior=("门外不走",)), KB)
    inside = advise("ask_home_entry", Facts(behavior=("闯入",)), KB)
    assert "lingering" in outside.variants and "forced_entry" not in outside.variants
    assert ids(outside)[0] == "public_security_50"
    assert "forced_entry" in inside.variants and ids(inside)[0] == "criminal_law_245"


def test_lawful_pressure_is_named_as_lawful():
    advice = advise("report_harassment", Facts(), KB)
    assert "起诉" in advice.answer and "合法" in advice.answer and "不合法" in advice.answer


def test_third_parties_may_be_asked_to_pass_a_message_and_staying_reachable_helps():
    advice = advise("ask_third_party_contact", Facts(), KB)
    assert "转告" in advice.answer and "不能向他们催收" in advice.answer
    assert any("保持电话畅通" in s for s in advice.steps)


def test_harassers_can_be_ordered_to_stay_away():
    advice = advise("report_harassment", Facts(behavior=("跟踪",)), KB)
    assert any("禁止接触" in n or "不得接触" in n for n in advice.notes)


def test_recordings_are_evidence():
    assert "civ_proc_66" in ids(advise("ask_evidence", Facts(), KB))


# ---- jurisdiction ----------------------------------------------------------------------------------


@pytest.mark.parametrize("place, name", [("taiwan", "台湾"), ("hong_kong", "香港")])
def test_a_debt_outside_the_mainland_gets_no_mainland_law(place, name):
    for intent in ("ask_lawsuit", "ask_criminal_risk", "emergency_now"):
        advice = advise(intent, Facts(jurisdiction=place), KB)
        assert advice.provisions == () and name in advice.answer and "中国大陆" in advice.answer
        assert advice.help and all(h.id.startswith(("tw_", "hk_")) for h in advice.help)
        assert "《" not in text(advice)


def test_a_mainland_card_held_by_a_taiwanese_person_is_mainland_law():
    advice = advise("ask_lawsuit", Facts(jurisdiction="mainland", bank="招商银行"), KB)
    assert advice.provisions and "outside_mainland" not in advice.variants


def test_a_court_officer_at_the_door_is_not_answered_as_a_collector():
    advice = advise("ask_home_entry", Facts(behavior=("冒充法院",)), KB)
    assert "12368" in advice.answer and "接收" in advice.answer and "视为送达" in advice.answer
    assert "你可以不开门" not in advice.answer
    assert any("签收" in s for s in advice.steps)


def test_no_mainland_hotline_in_the_disclaimer_abroad():
    advice = advise("ask_lawsuit", Facts(jurisdiction="taiwan"), KB)
    body = render_advice(advice, with_disclaimer=True, kb=KB)[0].text
    assert "12348" not in body and KB.labels["disclaimer_outside"] in body
