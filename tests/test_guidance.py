"""The rule engine and renderer over the real knowledge base."""

from __future__ import annotations

import itertools
import re

import pytest

from actions.advice.engine import advise
from actions.advice.facts import FACT_KINDS, NUMBERS, NUMERIC_FACTS, TEXTS, Facts, choices
from actions.advice.kb import load_kb
from actions.advice.render import MAX_ALSO_CITED, MAX_MESSAGE_CHARS, PARAGRAPH_BREAK, render_advice, render_legal_basis

KB = load_kb()
BIG = 10**9
# A bank with a credit-card line, so {hotline} renders as its longest form.
SAMPLE_BANK = "招商银行"


def facts_for(variants):
    """Facts that satisfy every variant's `when`, or None when their tests exclude each other."""
    low, high, lists, anys = {}, {}, {}, set()
    for variant in variants:
        for fact, test in variant.when.items():
            if test == "any":
                anys.add(fact)
            elif isinstance(test, list):
                lists.setdefault(fact, []).append(test)
            else:
                for op, bound in test.items():
                    if op in ("gt", "gte"):
                        low[fact] = max(low.get(fact, 0), bound + (op == "gt"))
                    else:
                        high[fact] = min(high.get(fact, BIG), bound + (op == "lte"))
    mapping = {}
    for fact in sorted(NUMERIC_FACTS):
        lo, hi = low.get(fact, 0), high.get(fact, BIG)
        if lo >= hi:
            return None
        if fact in high:
            mapping[fact] = hi - 1
        elif fact in low:
            mapping[fact] = lo + 12345
        elif fact in anys:
            mapping[fact] = 123456
    for fact in anys - NUMERIC_FACTS:
        if fact == "bank":
            mapping[fact] = SAMPLE_BANK
        elif FACT_KINDS[fact] == NUMBERS:
            mapping[fact] = [30000, 25000]
        else:
            sample = (choices(fact) or ("样例",))[0]
            mapping[fact] = [sample] if FACT_KINDS[fact] == TEXTS else sample
    for fact, tests in lists.items():
        if FACT_KINDS[fact] == TEXTS:  # a list fact can hold one value for each test
            mapping[fact] = [test[0] for test in tests]
            continue
        common = set(tests[0]).intersection(*tests[1:])
        if not common or (fact in anys and common == {None}):
            return None  # one fact cannot hold two values
        value = next((v for v in tests[0] if v in common and v is not None), None)
        if value is None:
            mapping.pop(fact, None)
        else:
            mapping[fact] = value
    return Facts.from_mapping(mapping)


def text_of(intent, facts=Facts(), **kwargs):
    messages = render_advice(advise(intent, facts, KB), kb=KB, **kwargs)
    assert len(messages) == 1
    return messages[0].text


def _quote_rendered(provision, text):
    if provision.paraphrased:  # a paraphrase is marked and never inside quotation marks
        return f"{provision.citation}{KB.labels['paraphrase_mark']}：{provision.quote}" in text
    return f"{provision.citation}：“{provision.quote}”" in text


CASES = [(intent, None) for intent in KB.guidance] + [
    (intent, variant.id) for intent, g in KB.guidance.items() for variant in g.variants
]


@pytest.mark.parametrize("intent,variant_id", CASES, ids=[f"{i}-{v or 'plain'}" for i, v in CASES])
def test_advice_shape(intent, variant_id):
    guidance = KB.guidance[intent]
    if variant_id is None:
        facts = Facts()
    else:
        variant = next(v for v in guidance.variants if v.id == variant_id)
        facts = facts_for([variant])
    advice = advise(intent, facts, KB)
    if variant_id is not None:
        assert variant_id in advice.variants, "the sample facts must trigger the variant"
    else:
        assert advice.variants == ()
    assert advice.answer.strip()
    assert 2 <= len(advice.steps) <= 5
    assert all(len(step) <= 45 for step in advice.steps), advice.steps
    assert advice.provisions and advice.help
    for with_disclaimer in (False, True):
        text = render_advice(advice, with_disclaimer=with_disclaimer, kb=KB)[0].text
        assert len(text) <= MAX_MESSAGE_CHARS
        assert _quote_rendered(advice.provisions[0], text)
        assert not re.search(r"[{}]|（）", text), "unfilled placeholder"


@pytest.mark.parametrize("intent", list(KB.guidance))
def test_every_combination_of_variants_fits_one_message(intent):
    variants = KB.guidance[intent].variants
    checked = 0
    for size in range(len(variants) + 1):
        for subset in itertools.combinations(variants, size):
            facts = facts_for(subset)
            if facts is None:
                continue
            advice = advise(intent, facts, KB)
            assert {v.id for v in subset} <= set(advice.variants)
            text = render_advice(advice, with_disclaimer=True, kb=KB)[0].text
            assert len(text) <= MAX_MESSAGE_CHARS, f"{intent} {advice.variants}: {len(text)} chars"
            traditional = render_advice(advice, traditional=True, with_disclaimer=True, kb=KB)[0].text
            assert len(traditional) <= MAX_MESSAGE_CHARS
            checked += 1
    assert checked >= 1


# --- tailoring ------------------------------------------------------------

BANK_INTENTS = [
    "ask_collector_legitimacy",
    "ask_how_to_respond",
    "ask_installment_negotiation",
    "ask_fees_interest",
    "ask_fake_documents",
    "ask_complaint",
    "ask_visit_process",
    "ask_home_entry",
]


@pytest.mark.parametrize("intent", BANK_INTENTS)
def test_named_bank_gets_its_official_number(intent):
    text = text_of(intent, Facts(bank="招商银行"))
    assert "招商银行官方客服（400-820-5555）" in text
    general = text_of(intent, Facts(bank="工商银行"))
    assert "工商银行官方客服（95588）" in general


@pytest.mark.parametrize("intent", BANK_INTENTS)
def test_named_bank_step_replaces_the_generic_one(intent):
    steps = advise(intent, Facts(bank="招商银行"), KB).steps
    assert sum("官方客服" in s or "客服电话" in s for s in steps) == 1, steps


def test_bank_alias_resolves():
    assert "400-820-5555" in text_of("ask_collector_legitimacy", Facts(bank="招行"))


def test_bank_without_confirmed_number_points_to_the_card():
    text = text_of("ask_collector_legitimacy", Facts(bank="光大银行"))
    assert "光大银行官方客服（见卡背面或官方App）" in text
    assert "95595" not in text


def test_unknown_bank_leaves_no_empty_placeholder():
    text = text_of("ask_collector_legitimacy", Facts(bank="拍拍贷"))
    assert "拍拍贷" not in text and "（）" not in text and "{" not in text
    assert "卡背面或官方App里的客服电话" in text


def test_criminal_risk_below_threshold():
    advice = advise("ask_criminal_risk", Facts(amount=43000), KB)
    assert "below_threshold" in advice.variants and "above_threshold" not in advice.variants
    text = text_of("ask_criminal_risk", Facts(amount=43000))
    assert "4.3万元" in text and "不到5万元" in text


def test_amount_just_below_threshold_is_not_rounded_up():
    text = text_of("ask_criminal_risk", Facts(amount=49999))
    assert "4.9999万元" in text and "不到5万元" in text


def test_criminal_risk_threshold_boundary():
    assert "band" in advise("ask_criminal_risk", Facts(amount=50000), KB).variants
    assert "below_threshold" in advise("ask_criminal_risk", Facts(amount=49999), KB).variants
    assert "band" in advise("ask_criminal_risk", Facts(amount=499999), KB).variants
    assert "large" in advise("ask_criminal_risk", Facts(amount=500000), KB).variants


def test_criminal_risk_in_the_5_to_50_wan_band_names_the_other_elements_and_leniency():
    advice = advise("ask_criminal_risk", Facts(amount=80000), KB)
    assert "band" in advice.variants
    note = advice.notes[0]
    assert "8万元" in note and "不一定犯罪" in note and "非法占有目的" in note
    assert "可以" in note and "不起诉" in note  # 第十条: discretionary, never promised
    assert any("每笔还款都算作归还本金" in s for s in advice.steps)  # 第九条, not "先还本金"
    assert "card_interp_10" in [p.id for p in advice.provisions]


def test_leniency_is_only_mentioned_in_the_5_to_50_wan_band():
    for amount in (30000, 600000, 6000000):
        advice = advise("ask_criminal_risk", Facts(amount=amount), KB)
        assert "card_interp_10" not in [p.id for p in advice.provisions], amount
        assert "不起诉" not in " ".join(advice.notes), amount


@pytest.mark.parametrize("amount", [None, 3000, 43000, 80000, 600000, 6000000])
@pytest.mark.parametrize("days", [None, 30, 200])
def test_criminal_risk_never_promises_prison(amount, days):
    text = text_of("ask_criminal_risk", Facts(amount=amount, overdue_duration=days), with_disclaimer=True)
    for phrase in ("一定会坐牢", "肯定会坐牢", "一定坐牢", "肯定坐牢", "必然坐牢"):
        assert phrase not in text


def test_criminal_risk_overdue_duration():
    short = advise("ask_criminal_risk", Facts(overdue_duration=60), KB)
    long = advise("ask_criminal_risk", Facts(overdue_duration=120), KB)
    assert "overdue_short" in short.variants and "overdue_long" not in short.variants
    assert "overdue_long" in long.variants and "120天" in long.notes[0]


def test_credit_report_counts_from_the_end_of_the_bad_conduct():
    advice = advise("ask_credit_report", Facts(overdue_duration=200), KB)
    assert "200天" in advice.notes[0] and "还清" in advice.notes[0]
    assert advice.provisions[0].id == "credit_reg_16"


def test_parents_do_not_owe_the_debt():
    advice = advise("ask_third_party_contact", Facts(relation=("父母",)), KB)
    assert advice.variants == ("family_friends",)
    assert "你的父母不是欠款人" in advice.notes[0] and "没有替你还款的义务" in advice.notes[0]


def test_spouse_gets_the_marital_debt_rule():
    advice = advise("ask_third_party_contact", Facts(relation=("配偶",)), KB)
    assert advice.provisions[0].id == "civil_code_1064"
    assert "不一定" in advice.answer and "共同签字" in advice.answer and "父母" not in advice.answer
    assert "你的配偶不是欠款人" not in " ".join(advice.notes)


def test_employer_visit_cites_workplace_disorder():
    advice = advise("ask_third_party_contact", Facts(relation=("单位",)), KB)
    assert "public_security_26" in [p.id for p in advice.provisions]
    assert "police" in [h.id for h in advice.help]


def test_contact_list_blasting_cites_pipl():
    advice = advise("ask_third_party_contact", Facts(relation=("通讯录",)), KB)
    assert "pipl_10" in [p.id for p in advice.provisions]


@pytest.mark.parametrize(
    "behavior,lead,also",
    [
        ("威胁", "public_security_50", None),
        ("辱骂", "public_security_50", None),
        ("频繁来电", "public_security_50", None),
        ("闯入", "criminal_law_245", "public_security_47"),
        ("拒不离开", "criminal_law_245", "public_security_47"),
        ("泼油漆", "public_security_59", None),
        ("损坏财物", "public_security_59", None),
        ("冒充警察", "public_security_62", "criminal_law_279"),
        ("冒充法院", "public_security_62", "criminal_law_279"),
        ("殴打", "public_security_51", None),
        ("限制自由", "criminal_law_238", "public_security_47"),
        ("堵门", "public_security_50", None),
        ("门外不走", "public_security_50", None),
        ("拿走财物", "civ_proc_120", None),
        ("张贴", "civil_code_1032", "criminal_law_246"),
        ("曝光隐私", "civil_code_1032", "criminal_law_246"),
        ("转账私人账户", "public_security_58", None),
    ],
)
def test_behaviour_leads_with_the_matching_provision(behavior, lead, also):
    advice = advise("report_harassment", Facts(behavior=(behavior,)), KB)
    ids = [p.id for p in advice.provisions]
    assert ids[0] == lead
    if also:
        assert also in ids
    assert _quote_rendered(advice.provisions[0], text_of("report_harassment", Facts(behavior=(behavior,))))


def test_many_behaviours_keep_the_most_serious_first():
    facts = Facts(behavior=("深夜催收", "威胁", "张贴", "殴打", "闯入"))
    advice = advise("report_harassment", facts, KB)
    assert len(advice.notes) == 2
    assert advice.provisions[0].id == "public_security_51"
    assert "验伤" in advice.notes[0]
    assert len(text_of("report_harassment", facts, with_disclaimer=True)) <= MAX_MESSAGE_CHARS


def test_emergency_puts_safety_first():
    advice = advise("emergency_now", Facts(), KB)
    assert "不要开门" in advice.answer and "110" in advice.answer
    assert "不开" in advice.steps[0]
    assert any("证件" in s for s in advice.steps) and any("录" in s for s in advice.steps)
    assert [h.id for h in advice.help][0] == "police"
    inside = advise("emergency_now", Facts(behavior=("闯入",)), KB)
    assert "110" in inside.notes[0] and inside.provisions[0].id == "criminal_law_245"


def test_installment_is_negotiated_not_a_right():
    advice = advise("ask_installment_negotiation", Facts(), KB)
    assert "不是法律用语" in advice.answer and "5年" in advice.answer and "延期" in advice.answer
    assert advice.provisions[0].id == "card_rules_70"
    assert any("停止催收" in s for s in advice.steps)  # 第七十条: a signed plan stops collection
    assert any("核对过金额" in s for s in advice.steps)  # 民法典第一百九十五条: a signed promise restarts time
    assert "civil_code_195" in [p.id for p in advice.provisions]


def test_installment_budget_placeholders():
    advice = advise("ask_installment_negotiation", Facts(monthly_income=6000, monthly_expense=3000, amount=52000), KB)
    joined = " ".join(advice.notes)
    assert "6000元" in joined and "3000元" in joined and "5.2万元" in joined


def test_income_alone_does_not_trigger_the_budget_note():
    assert "budget" not in advise("ask_installment_negotiation", Facts(monthly_income=6000), KB).variants


def test_lawyer_letter_is_not_a_court_document():
    text = text_of("ask_fake_documents")
    assert "律师函不是法院文书" in text and "12368" in text


def test_collection_hours_are_self_regulation():
    text = text_of("ask_collection_hours")
    soft = KB.labels["soft_law_note"]
    assert "22点至次日8点" in text and "自律" in text
    assert f"《金融机构个人消费类贷款催收工作指引（试行）》{soft}" in text


# --- rendering ------------------------------------------------------------


def test_traditional_rendering():
    messages = render_advice(advise("ask_third_party_contact", Facts(), KB), traditional=True, kb=KB)
    assert "銀行" in messages[0].text and "银行" not in messages[0].text
    assert all(b["title"] != "查看法律依据" for b in messages[0].buttons)
    assert {b["title"] for b in messages[0].buttons} >= {"查看法律依據"}


def test_disclaimer_only_when_asked():
    disclaimer = KB.labels["disclaimer"]
    assert disclaimer not in text_of("ask_lawsuit")
    assert text_of("ask_lawsuit", with_disclaimer=True).endswith(disclaimer)


def test_buttons():
    buttons = render_advice(advise("ask_installment_negotiation", Facts(), KB), kb=KB)[0].buttons
    assert {"title": "查看法律依据", "payload": "/ask_legal_basis"} in buttons
    assert {"title": "帮我做分期方案", "payload": "/start_installment_plan"} in buttons
    assert all(
        b["payload"] != "/start_installment_plan"
        for b in render_advice(advise("ask_lawsuit", Facts(), KB), kb=KB)[0].buttons
    )


def test_legal_basis_is_split_into_phone_sized_messages():
    provisions = list(KB.provisions.values())
    messages = render_legal_basis(provisions, kb=KB)
    assert len(messages) > 1
    assert all(len(m.text) <= MAX_MESSAGE_CHARS for m in messages)
    assert messages[0].text.startswith(KB.labels["basis_full_heading"])
    joined = "\n".join(m.text for m in messages)
    for p in provisions:
        assert _quote_rendered(p, joined)
    positions = [joined.index(f"{p.citation}") for p in provisions]
    assert positions == sorted(positions)


def test_legal_basis_marks_soft_law():
    soft = [p for p in KB.provisions.values() if p.soft_law]
    hard = KB.provisions["criminal_law_245"]
    assert soft
    text = render_legal_basis([hard, *soft], kb=KB)[0].text
    note = KB.labels["soft_law_note"]
    assert text.count(note) == len(soft)
    assert f"{hard.citation}：“{hard.quote}”{note}" not in text


def test_legal_basis_for_one_answer_fits_one_message():
    advice = advise("report_harassment", Facts(behavior=("张贴", "威胁")), KB)
    messages = render_legal_basis(advice.provisions, traditional=True, kb=KB)
    assert len(messages) <= 2 and all(len(m.text) <= MAX_MESSAGE_CHARS for m in messages)
    assert "《刑法》第二百四十六條" in "".join(m.text for m in messages)


def test_long_citation_list_is_shortened_in_the_answer_only():
    facts = Facts(amount=80000, overdue_duration=200)
    advice = advise("ask_criminal_risk", facts, KB)
    assert len(advice.provisions) > 1 + MAX_ALSO_CITED
    basis = next(
        part
        for part in text_of("ask_criminal_risk", facts).split(PARAGRAPH_BREAK)
        if part.startswith(KB.labels["basis_heading"])
    )
    also = basis.split(KB.labels["basis_also"], 1)[1]
    assert also.count("、") == MAX_ALSO_CITED - 1 and basis.endswith(KB.labels["basis_etc"])
    full = "".join(m.text for m in render_legal_basis(advice.provisions, kb=KB))
    assert full.count("《") == len(advice.provisions)


def test_facts_from_slots():
    facts = Facts.from_mapping(
        {"bank": ["招商银行"], "amount": "43000", "relation": "父母", "behavior": ["威胁", "威胁"]}
    )
    assert facts == Facts(bank="招商银行", amount=43000, relation=("父母",), behavior=("威胁",))


def test_help_line_names_the_users_bank_and_its_number():
    text = text_of("ask_criminal_risk", Facts(bank="招商银行", amount=43000))
    help_line = next(p for p in text.split(PARAGRAPH_BREAK) if p.startswith(KB.labels["help_heading"]))
    assert "招商银行官方客服 400-820-5555" in help_line


def test_help_line_stays_generic_for_a_bank_without_a_verified_number():
    text = text_of("ask_criminal_risk", Facts(bank="民生银行"))
    help_line = next(p for p in text.split(PARAGRAPH_BREAK) if p.startswith(KB.labels["help_heading"]))
    assert KB.help_channels["bank_official"].contact in help_line
