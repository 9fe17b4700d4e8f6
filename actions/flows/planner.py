"""Installment planner: what monthly payment the user can offer, over how many periods,
plus the documents to ask for it (letter, phone script, checklist, agent warning).

Basis: 商业银行信用卡业务监督管理办法第七十条 (个性化分期还款协议: negotiated, at most
5 years; interest and fees during the plan are part of the agreement, item 三; once
signed, collection stops). It is card-only: for a loan (网贷, 消费贷, 私人借款) the same
maths is offered as a proposal to negotiate, the letter speaks to the lender and cites
no rule. The maths ignores interest and fees and says so.

Maths (all integers, yuan):
- disposable = income − essential expenses (unknown expenses: assume EXPENSE_SHARE of
  income, a deliberately high guess, and say so);
- affordable = AFFORDABLE_SHARE of disposable, rounded down to ROUND_TO (the rest is
  an emergency margin);
- periods needed = ceil(amount / affordable); ≤ MIN_PERIODS → MIN_PERIODS periods;
  up to MAX_PERIODS → that many; beyond → not feasible within 5 years;
- monthly payment = amount / periods rounded up to ROUND_TO (never above affordable;
  the last period pays the remainder).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, Optional, Tuple

from actions.advice.facts import LOAN_TYPES, NUMERIC_FACTS, UNKNOWN, Facts
from actions.advice.kb import KnowledgeBase, Provision, load_kb, validate_bank
from actions.flows.flows_kb import (
    Flows,
    format_amount,
    format_date,
    hotline_text,
    load_flows,
    resolve,
)

AFFORDABLE_SHARE = 70  # percent of disposable income offered to the bank
EXPENSE_SHARE = 60  # percent of income assumed as essential spending when unknown
ROUND_TO = 10  # yuan
MIN_PERIODS = 12
MAX_PERIODS = 60  # 第七十条: at most 5 years
# 恶意透支 starts at 5万元 of unpaid principal (2018 interpretation 第八条): from there on the
# card plan says how that rule works (it does not depend on asking for installments).
CRIMINAL_THRESHOLD = 50_000
MAX_AMOUNT = 100_000_000
MAX_MONTHLY = 10_000_000
MAX_OVERDUE_DAYS = 36_500
DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Plan:
    feasible: bool
    affordable_monthly: int  # what the user can offer each month (0 = nothing)
    periods: int  # proposed periods; MAX_PERIODS when infeasible; 0 when not computable
    monthly_payment: int  # proposed payment; when infeasible: what 60 periods would need
    reason_id: str
    reason: str
    note_ids: Tuple[str, ...]
    notes: Tuple[str, ...]
    next_steps: Tuple[str, ...]
    provisions: Tuple[Provision, ...]
    # the inputs, so documents can be checked against them
    amount: int
    monthly_income: Optional[int]
    monthly_expense: Optional[int]  # as given (None = unknown)
    expense_used: Optional[int]  # given or assumed
    overdue_days: Optional[int]
    bank: Optional[str]
    loan_type: Optional[str] = None  # None: a credit card is assumed

    @property
    def card(self) -> bool:
        return self.loan_type in (None, "credit_card")

    @property
    def holder_kind(self) -> str:
        return "credit_card" if self.card else "loan"

    @property
    def proposal_kind(self) -> str:
        """plan (a full proposal), stretch (can pay something), none, unknown (no income given)."""
        if self.reason_id == "income_unknown":
            return "unknown"
        if self.feasible:
            return "plan"
        return "stretch" if self.affordable_monthly > 0 else "none"


@dataclass(frozen=True)
class Notice:
    text: str
    provisions: Tuple[Provision, ...]


# ---- validation ------------------------------------------------------------------------


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number of yuan/days, got {value!r}")
    return value


def validate_amount(value: Any) -> int:
    """The amount owed: 1 .. MAX_AMOUNT yuan."""
    value = _int(value, "amount")
    if not 1 <= value <= MAX_AMOUNT:
        raise ValueError(f"amount must be between 1 and {MAX_AMOUNT}, got {value}")
    return value


def validate_monthly(value: Any, name: str = "monthly_income") -> Optional[int]:
    """Monthly income or expense: None (unknown) or 0 .. MAX_MONTHLY yuan."""
    if value is None:
        return None
    value = _int(value, name)
    if not 0 <= value <= MAX_MONTHLY:
        raise ValueError(f"{name} must be between 0 and {MAX_MONTHLY}, got {value}")
    return value


def validate_overdue_days(value: Any) -> Optional[int]:
    """Days overdue: None (unknown) or 0 .. MAX_OVERDUE_DAYS."""
    if value is None:
        return None
    value = _int(value, "overdue_days")
    if not 0 <= value <= MAX_OVERDUE_DAYS:
        raise ValueError(f"overdue_days must be between 0 and {MAX_OVERDUE_DAYS}, got {value}")
    return value


def validate_loan_type(value: Any) -> Optional[str]:
    if value is None:
        return None
    if value not in LOAN_TYPES:
        raise ValueError(f"loan_type must be one of {LOAN_TYPES} or None, got {value!r}")
    return value


# form slot (a fact) -> plan_installment parameter and Plan field
INPUT_SLOTS = {
    "amount": "amount",
    "monthly_income": "monthly_income",
    "monthly_expense": "monthly_expense",
    "overdue_duration": "overdue_days",
    "bank": "bank",
    "loan_type": "loan_type",
}


def _whole(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def parse_field(slot: str, value: Any) -> Any:
    """The value a planner slot may hold (UNKNOWN where not knowing is allowed); ValueError otherwise.

    The one check shared by the form validator and plan_installment's inputs.
    """
    if slot == "amount":
        return validate_amount(_whole(value))
    if value == UNKNOWN:
        return UNKNOWN
    if slot in ("monthly_income", "monthly_expense"):
        return validate_monthly(_whole(value), slot)
    if slot == "overdue_duration":
        return validate_overdue_days(_whole(value))
    if slot == "bank":
        return validate_bank(value)
    if slot == "loan_type":
        return validate_loan_type(value)
    raise ValueError(f"not a planner slot: {slot}")


def inputs_from_slots(slots: Dict[str, Any]) -> Dict[str, Any]:
    """plan_installment keyword arguments from the form's slots (UNKNOWN and missing -> None)."""
    out: Dict[str, Any] = {}
    for slot, parameter in INPUT_SLOTS.items():
        value = slots.get(slot)
        value = None if value is None else parse_field(slot, value)
        out[parameter] = None if value == UNKNOWN else value
    return out


def facts_of(plan: "Plan") -> Dict[str, Any]:
    """The Facts fields a plan was computed from (documents are checked against them)."""
    return {fact: getattr(plan, attr) for fact, attr in INPUT_SLOTS.items()}


# ---- maths -------------------------------------------------------------------------------


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def round_up(value_num: int, value_den: int = 1) -> int:
    """value_num / value_den rounded up to ROUND_TO yuan."""
    return _ceil_div(value_num, value_den * ROUND_TO) * ROUND_TO


def affordable_monthly(income: int, expense: int) -> int:
    """AFFORDABLE_SHARE of what is left each month, rounded down to ROUND_TO; never negative."""
    disposable = income - expense
    if disposable <= 0:
        return 0
    return disposable * AFFORDABLE_SHARE // 100 // ROUND_TO * ROUND_TO


def assumed_expense(income: int) -> int:
    return income * EXPENSE_SHARE // 100


def schedule(amount: int, affordable: int) -> Tuple[bool, int, int, str]:
    """(feasible, periods, monthly_payment, reason_id) for a positive affordable amount."""
    needed = _ceil_div(amount, affordable)
    if needed <= MIN_PERIODS:
        return True, MIN_PERIODS, round_up(amount, MIN_PERIODS), "fits_min_period"
    if needed <= MAX_PERIODS:
        return True, needed, round_up(amount, needed), "fits"
    return False, MAX_PERIODS, round_up(amount, MAX_PERIODS), "exceeds_max_period"


def plan_installment(
    amount: int,
    monthly_income: Optional[int],
    monthly_expense: Optional[int] = None,
    overdue_days: Optional[int] = None,
    bank: Optional[str] = None,
    kb: Optional[KnowledgeBase] = None,
    flows: Optional[Flows] = None,
    loan_type: Optional[str] = None,
) -> Plan:
    """A proposal for a 个性化分期 the user can afford, with reasons and notes."""
    amount = validate_amount(amount)
    loan_type = validate_loan_type(loan_type)
    card = loan_type in (None, "credit_card")
    income = validate_monthly(monthly_income, "monthly_income")
    expense = validate_monthly(monthly_expense, "monthly_expense")
    overdue_days = validate_overdue_days(overdue_days)
    bank = validate_bank(bank)
    kb = kb or load_kb()
    flows = flows or load_flows()

    expense_used: Optional[int] = expense
    note_ids = ["interest_not_included", "negotiated_basis" if card else "loan_basis"]
    if income is None:
        feasible, affordable, periods, payment, reason = False, 0, 0, 0, "income_unknown"
        disposable = 0
    else:
        if expense_used is None:  # = expense
            expense_used = assumed_expense(income)
            note_ids.append("expense_assumed")
        disposable = income - expense_used
        affordable = affordable_monthly(income, expense_used)
        if income == 0:
            feasible, periods, payment, reason = False, 0, 0, "no_income"
        elif disposable <= 0:
            feasible, periods, payment, reason = False, 0, 0, "expenses_exceed_income"
        elif affordable == 0:
            feasible, periods, payment, reason = False, 0, 0, "too_little_disposable"
        else:
            feasible, periods, payment, reason = schedule(amount, affordable)
    if reason == "fits_min_period" and _ceil_div(amount, affordable) < MIN_PERIODS:
        note_ids.append("short_plan")
    if overdue_days is None:
        note_ids.append("overdue_unknown")
    if card and amount >= CRIMINAL_THRESHOLD:
        note_ids.append("criminal_threshold")

    values = _values(
        flows,
        kb,
        bank,
        amount=amount,
        affordable=affordable,
        periods=periods,
        monthly=payment,
        needed_monthly=payment,
        disposable=max(disposable, 0),
    )
    texts = flows.planner
    steps = texts.next_steps["feasible" if feasible else "infeasible"]
    return Plan(
        feasible=feasible,
        affordable_monthly=affordable,
        periods=periods,
        monthly_payment=payment,
        reason_id=reason,
        reason=texts.reasons[reason].format(**values),
        note_ids=tuple(note_ids),
        notes=tuple(texts.notes[n].format(**values) for n in note_ids),
        next_steps=tuple(s.format(**values) for s in steps),
        provisions=resolve([texts.basis_provision], kb) if card else (),
        amount=amount,
        monthly_income=income,
        monthly_expense=expense,
        expense_used=expense_used,
        overdue_days=overdue_days,
        bank=bank,
        loan_type=loan_type,
    )


def _values(flows: Flows, kb: KnowledgeBase, bank: Optional[str], **money: int) -> Dict[str, Any]:
    fmt = flows.formats
    values: Dict[str, Any] = {
        key: format_amount(money[key], fmt)
        for key in ("amount", "affordable", "monthly", "needed_monthly", "disposable")
    }
    values.update(
        periods=money["periods"],
        share=AFFORDABLE_SHARE,
        expense_share=EXPENSE_SHARE,
        min_periods=MIN_PERIODS,
        max_periods=MAX_PERIODS,
        round_to=format_amount(ROUND_TO, fmt),
        hotline=hotline_text(bank, kb, fmt),
    )
    return values


# ---- documents -----------------------------------------------------------------------------


def _check_matches(plan: Plan, facts: Facts, kb: KnowledgeBase) -> None:
    """The letter states facts and a proposal: both must come from the same numbers.

    A number the facts give must be the plan's; a bank or loan type only differs when both name one.
    """
    for name, planned in facts_of(plan).items():
        given = facts.get(name)
        if name in NUMERIC_FACTS:
            differs = given is not None and given != planned
        elif name == "bank":
            differs = bool(given and planned) and kb.canonical_bank(given) != kb.canonical_bank(planned)
        else:
            differs = bool(given and planned) and given != planned
        if differs:
            raise ValueError(f"{name} in facts ({given}) differs from the plan ({planned})")


def _bank_name(name: Optional[str], kb: KnowledgeBase, flows: Flows) -> str:
    return kb.canonical_bank(name) if name else flows.formats.placeholder_bank


def overdue_text(days: int, flows: Flows) -> str:
    """12 → 12天; 90 → 3个月; 100 → 约3个月."""
    fmt = flows.formats
    if days < DAYS_PER_MONTH:
        return fmt.days.format(n=days)
    months, rest = divmod(days, DAYS_PER_MONTH)
    return (fmt.months if rest == 0 else fmt.about_months).format(n=months)


def _overdue_sentence(days: Optional[int], flows: Flows) -> str:
    forms = flows.planner.overdue_sentence
    if days is None:
        return forms["unknown"]
    if days == 0:
        return forms["zero"]
    return forms["known"].format(overdue=overdue_text(days, flows))


def _plan_values(plan: Plan, kb: KnowledgeBase, flows: Flows) -> Dict[str, Any]:
    return _values(
        flows,
        kb,
        plan.bank,
        amount=plan.amount,
        affordable=plan.affordable_monthly,
        periods=plan.periods,
        monthly=plan.monthly_payment,
        needed_monthly=plan.monthly_payment,
        disposable=0,
    )


def application_letter(
    plan: Plan,
    facts: Facts,
    today: date,
    kb: Optional[KnowledgeBase] = None,
    flows: Optional[Flows] = None,
) -> str:
    """A ready-to-send 协商还款申请书. Unknown facts and all personal identifiers stay
    as 【placeholders】: the user fills in name, ID digits and phone themselves."""
    kb = kb or load_kb()
    flows = flows or load_flows()
    _check_matches(plan, facts, kb)
    texts, fmt = flows.planner, flows.formats
    values = _plan_values(plan, kb, flows)
    basis = resolve([texts.basis_provision], kb)[0]
    kind = plan.holder_kind
    return texts.letter.format(
        bank=_bank_name(facts.bank or plan.bank, kb, flows),
        holder=texts.letter_holder[kind],
        basis_sentence=texts.letter_basis[kind].format(basis=basis.citation),
        amount=values["amount"],
        overdue_sentence=_overdue_sentence(plan.overdue_days, flows),
        income=format_amount(plan.monthly_income, fmt) if plan.monthly_income is not None else texts.placeholder_income,
        expense=format_amount(plan.monthly_expense, fmt)
        if plan.monthly_expense is not None
        else texts.placeholder_expense,
        proposal=texts.letter_proposal[plan.proposal_kind].format(**values),
        today=format_date(today, fmt),
    )


def phone_script(
    plan: Plan,
    facts: Facts,
    kb: Optional[KnowledgeBase] = None,
    flows: Optional[Flows] = None,
) -> str:
    """What to say when calling the bank's official line (short)."""
    kb = kb or load_kb()
    flows = flows or load_flows()
    _check_matches(plan, facts, kb)
    texts = flows.planner
    values = _plan_values(plan, kb, flows)
    bank = _bank_name(facts.bank or plan.bank, kb, flows)
    return texts.phone_script.format(
        holder=texts.phone_holder[plan.holder_kind].format(bank=bank),
        amount=values["amount"],
        proposal=texts.phone_proposal[plan.proposal_kind].format(**values),
    )


def written_checklist(flows: Optional[Flows] = None) -> Tuple[str, ...]:
    """What to get in writing before paying under a plan."""
    return (flows or load_flows()).planner.checklist


def agent_warning(kb: Optional[KnowledgeBase] = None, flows: Optional[Flows] = None) -> Notice:
    """Warning against paid 停息挂账 / 代理维权 agents (NFRA risk notice, 2024)."""
    kb = kb or load_kb()
    warning = (flows or load_flows()).planner.agent_warning
    return Notice(warning.text, resolve(warning.provisions, kb))


def commitment_warning(kb: Optional[KnowledgeBase] = None, flows: Optional[Flows] = None) -> Notice:
    """A signed 还款承诺书 restarts the limitation period (民法典第一百九十五条)."""
    kb = kb or load_kb()
    warning = (flows or load_flows()).planner.commitment_warning
    return Notice(warning.text, resolve(warning.provisions, kb))
