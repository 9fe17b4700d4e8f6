"""Installment planner: affordability maths, validators, and the generated documents."""

from __future__ import annotations

import re
from datetime import date

import pytest

from actions.advice.facts import Facts
from actions.advice.kb import load_kb, validate_bank
from actions.flows.flows_kb import load_flows
from actions.flows.planner import (
    AFFORDABLE_SHARE,
    CRIMINAL_THRESHOLD,
    EXPENSE_SHARE,
    MAX_AMOUNT,
    MAX_MONTHLY,
    MAX_OVERDUE_DAYS,
    MAX_PERIODS,
    MIN_PERIODS,
    Plan,
    affordable_monthly,
    agent_warning,
    application_letter,
    commitment_warning,
    facts_of,
    inputs_from_slots,
    overdue_text,
    parse_field,
    phone_script,
    plan_installment,
    schedule,
    validate_amount,
    validate_monthly,
    validate_overdue_days,
    written_checklist,
)

KB = load_kb()
FLOWS = load_flows()
TODAY = date(2026, 11, 22)
CITATION = re.compile(r"《[^》]+》(第[零一二三四五六七八九十百千]+条(之[一二三四五六七八九十]+)?)?")
PHONE = re.compile(r"1[3-9]\d{9}")
ID_NUMBER = re.compile(r"\d{15}|\d{17}[\dXx]")
LONG_DIGITS = re.compile(r"\d{7,}")


def cited_ok(text):
    """Every 《…》第X条 in the text is the citation of a provision in the KB."""
    citations = {p.citation for p in KB.provisions.values()}
    found = [m.group(0) for m in CITATION.finditer(text)]
    assert all(c in citations for c in found), found
    return found


def no_identifiers(text):
    assert not PHONE.search(text) and not ID_NUMBER.search(text) and not LONG_DIGITS.search(text), text


def facts_for(plan: Plan) -> Facts:
    return Facts(**facts_of(plan))


# ---- affordability maths -------------------------------------------------------------------


@pytest.mark.parametrize(
    "income, expense, affordable",
    [
        (6000, 3000, 2100),  # 70% of 3000
        (6000, 6000, 0),  # nothing left
        (3000, 4000, 0),  # expenses above income
        (0, 0, 0),  # zero income
        (1000, 985, 10),  # 15 * 0.7 = 10.5 -> 10
        (1000, 990, 0),  # 10 * 0.7 = 7 -> rounds down to 0
        (10015, 0, 7010),  # 7010.5 -> 7010
        (5009, 0, 3500),  # 3506.3 -> 3500
    ],
)
def test_affordable_monthly(income, expense, affordable):
    assert affordable_monthly(income, expense) == affordable
    assert affordable % 10 == 0


@pytest.mark.parametrize(
    "amount, affordable, expected",
    [
        (12 * 2000, 2000, (True, 12, 2000, "fits_min_period")),  # exactly 12
        (12 * 2000 + 1, 2000, (True, 13, 1850, "fits")),  # just over 12
        (100, 2000, (True, 12, 10, "fits_min_period")),  # tiny amount: 12 low payments
        (1201, 2000, (True, 12, 110, "fits_min_period")),  # 100.08 rounded up to tens
        (60 * 500, 500, (True, 60, 500, "fits")),  # exactly 60
        (60 * 500 + 1, 500, (False, 60, 510, "exceeds_max_period")),  # just over 60
        (600_000, 3500, (False, 60, 10_000, "exceeds_max_period")),
    ],
)
def test_schedule_boundaries(amount, affordable, expected):
    assert schedule(amount, affordable) == expected


@pytest.mark.parametrize("amount", [1, 9, 1199, 12_345, 43_000, 99_999, 240_000, 499_999])
@pytest.mark.parametrize("affordable", [10, 370, 2100, 9990])
def test_schedule_invariants(amount, affordable):
    feasible, periods, payment, _ = schedule(amount, affordable)
    assert payment % 10 == 0
    assert MIN_PERIODS <= periods <= MAX_PERIODS
    if feasible:
        assert payment <= affordable
        assert payment * periods >= amount  # the plan covers the debt
        assert payment * (periods - 1) < amount or periods == MIN_PERIODS  # no idle periods
    else:
        assert payment > affordable


def test_feasible_plan_numbers():
    plan = plan_installment(43_000, 6000, 3000, 90, "招行")
    assert (plan.feasible, plan.affordable_monthly, plan.periods, plan.monthly_payment) == (True, 2100, 21, 2050)
    assert plan.reason_id == "fits"
    assert "2,050元" in plan.reason and "21" in plan.reason
    assert plan.bank == "招行"
    assert [p.id for p in plan.provisions] == ["card_rules_70"]
    assert "interest_not_included" in plan.note_ids  # the plan never hides interest


def test_zero_income():
    plan = plan_installment(10_000, 0, 0, 30)
    assert not plan.feasible and plan.reason_id == "no_income"
    assert plan.affordable_monthly == plan.periods == plan.monthly_payment == 0
    assert any("12348" in s for s in plan.next_steps)


@pytest.mark.parametrize("expense", [4000, 3000])
def test_expenses_at_or_above_income(expense):
    plan = plan_installment(10_000, 3000, expense, 30)
    assert not plan.feasible and plan.reason_id == "expenses_exceed_income"
    assert plan.affordable_monthly == 0


def test_too_little_left_after_the_margin():
    plan = plan_installment(10_000, 1000, 990, 30)
    assert plan.reason_id == "too_little_disposable" and not plan.feasible


def test_unknown_expenses_use_a_conservative_default_and_say_so():
    plan = plan_installment(43_000, 6000, None, 90)
    assert plan.monthly_expense is None
    assert plan.expense_used == 6000 * EXPENSE_SHARE // 100
    assert plan.affordable_monthly == affordable_monthly(6000, plan.expense_used)
    assert "expense_assumed" in plan.note_ids
    assert any(f"{EXPENSE_SHARE}%" in n for n in plan.notes)


def test_unknown_income_asks_for_it():
    plan = plan_installment(5000, None, None, None)
    assert plan.reason_id == "income_unknown" and not plan.feasible
    assert plan.proposal_kind == "unknown"


def test_unknown_overdue_time():
    plan = plan_installment(43_000, 6000, 3000, None, "招商银行")
    assert "overdue_unknown" in plan.note_ids
    assert any("400-820-5555" in n for n in plan.notes)
    assert "【逾期时长】" in application_letter(plan, facts_for(plan), TODAY)


def test_infeasible_beyond_five_years():
    plan = plan_installment(300_000, 5000, 2000, 400)
    assert not plan.feasible and plan.reason_id == "exceeds_max_period"
    assert plan.periods == MAX_PERIODS and plan.monthly_payment == 5000
    assert plan.affordable_monthly == 2100
    steps = "".join(plan.next_steps)
    assert "12348" in steps and "借新债" in steps and "停息挂账" in steps
    assert plan.proposal_kind == "stretch"


@pytest.mark.parametrize("amount", [CRIMINAL_THRESHOLD, 80_000, 600_000])
def test_card_debts_from_5_wan_get_the_malicious_overdraft_note(amount):
    plan = plan_installment(amount, 30_000, 5000, 200)
    assert plan.affordable_monthly > 0 and plan.monthly_payment > 0
    assert "criminal_threshold" in plan.note_ids
    note = plan.notes[plan.note_ids.index("criminal_threshold")]
    assert "本金" in note and "非法占有" in note and "所有卡" in note
    assert "一定" not in note and "坐牢" not in note
    assert "criminal_threshold" not in plan_installment(CRIMINAL_THRESHOLD - 1, 30_000, 5000, 200).note_ids


@pytest.mark.parametrize("loan_type", ["bank_loan", "online_lending", "private_loan", "illegal_loan"])
def test_loans_get_no_card_rules(loan_type):
    plan = plan_installment(80_000, 30_000, 5000, 200, "招商银行", loan_type=loan_type)
    assert "criminal_threshold" not in plan.note_ids and "negotiated_basis" not in plan.note_ids
    assert "loan_basis" in plan.note_ids
    assert plan.provisions == ()
    letter = application_letter(plan, facts_for(plan), TODAY)
    assert "第七十条" not in letter and "信用卡" not in letter.split("一、")[0]
    assert "借款人" in letter
    assert "借款人" in phone_script(plan, facts_for(plan))


def test_short_plan_note_only_when_fewer_than_12_months_would_do():
    assert "short_plan" in plan_installment(1000, 6000, 3000, 10).note_ids
    exact = plan_installment(12 * 2100, 6000, 3000, 10)
    assert exact.periods == 12 and exact.monthly_payment == 2100
    assert "short_plan" not in exact.note_ids


@pytest.mark.parametrize(
    "slot, value",
    [
        ("amount", 43_000),
        ("amount", 43_000.0),
        ("amount", "43000"),
        ("monthly_income", 0),
        ("monthly_income", "unknown"),
        ("monthly_expense", 3000),
        ("monthly_expense", "unknown"),
        ("overdue_duration", 90),
        ("overdue_duration", "unknown"),
        ("bank", "招商银行"),
        ("bank", "unknown"),
        ("loan_type", "online_lending"),
        ("loan_type", "unknown"),
    ],
)
def test_every_value_the_form_accepts_plans(slot, value):
    """One source of truth: whatever parse_field (the form validator's check) accepts, the planner plans."""
    slots = {
        "amount": 43_000,
        "monthly_income": 6000,
        "monthly_expense": 3000,
        "overdue_duration": 90,
        "bank": "招商银行",
        "loan_type": "credit_card",
        slot: parse_field(slot, value),
    }
    plan = plan_installment(**inputs_from_slots(slots))
    assert plan.reason


def test_unknown_income_plan_is_reachable_from_the_form():
    plan = plan_installment(
        **inputs_from_slots({"amount": 43_000, "monthly_income": parse_field("monthly_income", "unknown")})
    )
    assert plan.reason_id == "income_unknown" and plan.proposal_kind == "unknown"
    assert "【每期金额】" in application_letter(plan, facts_for(plan), TODAY)


@pytest.mark.parametrize(
    "slot, value",
    [
        ("amount", 0),
        ("amount", -5),
        ("amount", "unknown"),
        ("monthly_income", -1),
        ("loan_type", "mortgage"),
        ("overdue_duration", 10**6),
        ("bank", ""),
    ],
)
def test_parse_field_rejects_what_no_plan_can_use(slot, value):
    with pytest.raises(ValueError):
        parse_field(slot, value)


# ---- validators --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 43_000, MAX_AMOUNT])
def test_validate_amount_good(value):
    assert validate_amount(value) == value


@pytest.mark.parametrize("value", [0, -1, MAX_AMOUNT + 1, True, 1.5, "43000", None])
def test_validate_amount_bad(value):
    with pytest.raises(ValueError):
        validate_amount(value)


@pytest.mark.parametrize("value", [None, 0, 6000, MAX_MONTHLY])
def test_validate_monthly_good(value):
    assert validate_monthly(value) == value


@pytest.mark.parametrize("value", [-1, MAX_MONTHLY + 1, False, 6000.0, "6000"])
def test_validate_monthly_bad(value):
    with pytest.raises(ValueError):
        validate_monthly(value, "monthly_expense")


@pytest.mark.parametrize("value", [None, 0, 90, MAX_OVERDUE_DAYS])
def test_validate_overdue_good(value):
    assert validate_overdue_days(value) == value


@pytest.mark.parametrize("value", [-1, MAX_OVERDUE_DAYS + 1, True, "90"])
def test_validate_overdue_bad(value):
    with pytest.raises(ValueError):
        validate_overdue_days(value)


@pytest.mark.parametrize("value, ok", [(None, None), (" 招行 ", "招行"), ("", ValueError), (3, ValueError)])
def test_validate_bank(value, ok):
    if ok is ValueError:
        with pytest.raises(ValueError):
            validate_bank(value)
    else:
        assert validate_bank(value) == ok


@pytest.mark.parametrize(
    "args",
    [
        (-5, 6000, 3000, 90),
        (43_000, -1, 3000, 90),
        (43_000, 6000, -3000, 90),
        (43_000, 6000, 3000, -1),
        (10**12, 6000, 3000, 90),
        (43_000, 6000, 3000, 10**7),
    ],
)
def test_plan_rejects_absurd_inputs(args):
    with pytest.raises(ValueError):
        plan_installment(*args)


# ---- documents --------------------------------------------------------------------------------

LETTER_CASES = [
    (43_000, 6000, 3000, 90, "招行"),
    (43_000, 6000, None, None, None),
    (600_000, 8000, 3000, 400, "中信银行"),
    (10_000, 0, 0, 0, "民生银行"),
    (5000, None, None, 15, None),
    (MAX_AMOUNT, MAX_MONTHLY, 0, MAX_OVERDUE_DAYS, "工商银行"),
]


@pytest.mark.parametrize("args", LETTER_CASES)
def test_letter_is_filled_in_cited_and_free_of_identifiers(args):
    plan = plan_installment(*args)
    facts = facts_for(plan)
    letter = application_letter(plan, facts, TODAY)
    assert len(letter) <= 900
    assert f"{plan.amount:,}元" in letter
    assert "2026年11月22日" in letter
    assert "本人仍有还款意愿" in letter
    assert "【请简要写明困难原因" in letter
    assert "【姓名】" in letter and "【身份证号后四位】" in letter
    assert "停止对本人的催收" in letter
    assert cited_ok(letter) == ["《商业银行信用卡业务监督管理办法》第七十条"]  # a card: the 个性化分期 rule
    no_identifiers(letter)
    bank = KB.bank_by_name(plan.bank).name if plan.bank else "【银行名称】"
    assert letter.count(bank) >= 1
    if plan.monthly_income is not None:
        assert f"{plan.monthly_income:,}元" in letter
    else:
        assert "【每月收入】" in letter
    if plan.monthly_expense is not None:
        assert f"{plan.monthly_expense:,}元" in letter
    else:
        assert "【每月必要开支】" in letter
        if plan.expense_used is not None:  # an assumption is never stated as a fact
            assert f"{plan.expense_used:,}元" not in letter
    if plan.overdue_days:
        assert overdue_text(plan.overdue_days, FLOWS) in letter
    if plan.feasible:
        assert f"{plan.periods}期" in letter and f"{plan.monthly_payment:,}元" in letter
    elif plan.proposal_kind == "stretch":
        assert f"{plan.affordable_monthly:,}元" in letter and f"{MAX_PERIODS}期" in letter


@pytest.mark.parametrize(
    "days, text", [(0, None), (12, "12天"), (30, "1个月"), (90, "3个月"), (100, "约3个月"), (365, "约12个月")]
)
def test_overdue_text(days, text):
    if text:
        assert overdue_text(days, FLOWS) == text
    else:
        plan = plan_installment(5000, 6000, 3000, 0)
        assert "尚未逾期" in application_letter(plan, facts_for(plan), TODAY)


@pytest.mark.parametrize(
    "facts",
    [
        Facts(amount=1),
        Facts(amount=43_000, monthly_income=5000),
        Facts(amount=43_000, monthly_expense=1),
        Facts(amount=43_000, overdue_duration=1),
        Facts(bank="中信银行"),
    ],
)
def test_documents_refuse_facts_that_differ_from_the_plan(facts):
    plan = plan_installment(43_000, 6000, 3000, 90, "招行")
    with pytest.raises(ValueError):
        application_letter(plan, facts, TODAY)
    with pytest.raises(ValueError):
        phone_script(plan, facts)


def test_alias_and_canonical_bank_are_the_same_bank():
    plan = plan_installment(43_000, 6000, 3000, 90, "招行")
    letter = application_letter(plan, Facts(bank="招商银行", amount=43_000), TODAY)
    assert letter.split("\n")[2].startswith("招商银行")


@pytest.mark.parametrize("args", LETTER_CASES)
def test_phone_script_is_short_and_has_the_facts(args):
    plan = plan_installment(*args)
    script = phone_script(plan, facts_for(plan))
    assert len(script) <= 300
    assert f"{plan.amount:,}元" in script
    assert "书面协议" in script and "停止催收" in script
    no_identifiers(script)
    if plan.feasible:
        assert f"{plan.periods}期" in script and f"{plan.monthly_payment:,}元" in script


def test_written_checklist_covers_what_must_be_in_writing():
    checklist = "".join(written_checklist())
    for item in ("余额", "期", "每期", "利息", "费用", "停止催收", "盖章", "留一份"):
        assert item in checklist, item


def test_commitment_warning_cites_the_limitation_restart():
    warning = commitment_warning()
    assert "承诺书" in warning.text and "核对" in warning.text
    assert [p.id for p in warning.provisions] == ["civil_code_195"]


def test_agent_warning():
    warning = agent_warning()
    assert "停息挂账" in warning.text and "代理维权" in warning.text and "免费" in warning.text
    assert [p.id for p in warning.provisions] == ["nfra_2024_agent_warning"]
    assert all(p.id in KB.provisions for p in warning.provisions)


def test_every_planner_provision_exists():
    assert FLOWS.planner.basis_provision in KB.provisions
    for pid in FLOWS.planner.agent_warning.provisions + FLOWS.planner.commitment_warning.provisions:
        assert pid in KB.provisions


def test_plan_texts_cite_nothing_outside_the_kb():
    for args in LETTER_CASES:
        plan = plan_installment(*args)
        for text in (plan.reason, *plan.notes, *plan.next_steps):
            cited_ok(text)
            no_identifiers(text)


def test_shares_are_sane():
    assert 0 < AFFORDABLE_SHARE < 100 and 0 < EXPENSE_SHARE < 100
