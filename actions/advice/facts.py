"""What the user has told us, normalised: the input of every guidance rule.

The `Facts` dataclass is the one definition of the facts. Each field says where the
fact comes from, which values it may take and its unit; the knowledge base's `when`
conditions, the tracker slots that remember them, the flows that re-use them and the
case summary are all derived from its fields (see `FACT_KINDS` and `facts_from`).
Adding a fact is one field here (plus its slot in domain.yml).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

# Canonical values of the categorical facts (codes; their Chinese labels live in the KB).
LOAN_TYPES = ("credit_card", "bank_loan", "online_lending", "private_loan", "illegal_loan")
JURISDICTIONS = ("mainland", "taiwan", "hong_kong")
COURT_STAGES = ("sued", "judgment")  # judgment: a judgment is out (enforcement, 失信, 限高 included)
CAN_PAY = ("yes", "no")
ALERTS = ("live_danger", "fake_authority")  # set by the NLU safety components, for this message only
# Canonical values of the `relation` and `behavior` entities (the extractor's pattern ids).
RELATIONS = (
    "父母",
    "配偶",
    "子女",
    "兄弟姐妹",
    "亲戚",
    "朋友",
    "同事",
    "单位",
    "领导",
    "邻居",
    "通讯录",
    "紧急联系人",
    "物业",
    "村委会",
)
BEHAVIORS = (
    "威胁",
    "辱骂",
    "频繁来电",
    "爆通讯录",
    "泼油漆",
    "堵门",
    "砸门",
    "闯入",
    "拒不离开",
    "门外不走",
    "冒充警察",
    "冒充法院",
    "不出示证件",
    "跟踪",
    "殴打",
    "限制自由",
    "损坏财物",
    "拿走财物",
    "张贴",
    "深夜催收",
    "上门",
    "索要额外费用",
    "转账私人账户",
    "曝光隐私",
)
MAINLAND = "mainland"
UNKNOWN = "unknown"  # what a slot holds when the user does not know (or won't say): no fact

# kind of each fact: how `when` tests it and how it is read from slots (from the field's type)
TEXT, NUMBER, TEXTS, NUMBERS = "text", "number", "texts", "numbers"
# where a fact comes from (actions/tracker_facts.py reads each source its own way)
ENTITY = "entity"  # an NLU entity put into its slot by domain.yml's mapping: a later value replaces an earlier one
MERGED = "merged"  # entity values merged over the turns
DERIVED = "derived"  # the message's `derived_facts`, turned into a slot by the action that reads them
MESSAGE = "message"  # set by the NLU for this message only, never remembered
# unit of a number
YUAN, DAYS = "yuan", "days"


def _fact(
    source: str, default: Any = None, choices: Optional[Tuple[str, ...]] = None, unit: Optional[str] = None
) -> Any:
    return field(default=default, metadata={"source": source, "choices": choices, "unit": unit})


def _as_int(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number >= 0 else None


def _as_tuple(value: Any) -> Tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(dict.fromkeys(str(v) for v in value if v))
    return (str(value),)


def _as_ints(value: Any) -> Tuple[int, ...]:
    items = value if isinstance(value, (list, tuple)) else ()
    numbers = tuple(n for n in (_as_int(v) for v in items) if n is not None)
    return numbers


def _as_text(value: Any) -> Optional[str]:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return str(value) if value not in (None, "", UNKNOWN) else None


@dataclass(frozen=True)
class Facts:
    bank: Optional[str] = _fact(ENTITY)  # the lender the question is about (canonical name)
    banks: Tuple[str, ...] = _fact(DERIVED, ())  # every lender mentioned, when several
    # total owed (derived_facts' amount_total replaces it when several debts were given)
    amount: Optional[int] = _fact(ENTITY, unit=YUAN)
    amount_parts: Tuple[int, ...] = _fact(DERIVED, (), unit=YUAN)  # the separate debts summed into `amount`
    monthly_income: Optional[int] = _fact(ENTITY, unit=YUAN)
    monthly_expense: Optional[int] = _fact(ENTITY, unit=YUAN)
    overdue_duration: Optional[int] = _fact(ENTITY, unit=DAYS)
    relation: Tuple[str, ...] = _fact(MERGED, (), RELATIONS)
    behavior: Tuple[str, ...] = _fact(MERGED, (), BEHAVIORS)
    loan_type: Optional[str] = _fact(DERIVED, choices=LOAN_TYPES)
    jurisdiction: Optional[str] = _fact(DERIVED, choices=JURISDICTIONS)  # None or "mainland": mainland China
    court_stage: Optional[str] = _fact(DERIVED, choices=COURT_STAGES)
    can_pay: Optional[str] = _fact(DERIVED, choices=CAN_PAY)
    alerts: Tuple[str, ...] = _fact(MESSAGE, (), ALERTS)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Facts":
        """Facts from slot-like values; junk and unknown codes are dropped, never raised."""
        out: Dict[str, Any] = {}
        for name, kind in FACT_KINDS.items():
            raw = values.get(name)
            if kind == NUMBER:
                out[name] = _as_int(raw)
            elif kind == NUMBERS:
                out[name] = _as_ints(raw)
            elif kind == TEXTS:
                items = _as_tuple(raw)
                allowed = _CHOICES.get(name)
                out[name] = tuple(v for v in items if allowed is None or v in allowed)
            else:
                text = _as_text(raw)
                allowed = _CHOICES.get(name)
                out[name] = text if allowed is None or text in allowed else None
        return cls(**out)

    def get(self, name: str) -> Any:
        return getattr(self, name)

    def replace(self, **changes: Any) -> "Facts":
        return Facts(**{**self.__dict__, **changes})

    @property
    def outside_mainland(self) -> bool:
        return self.jurisdiction not in (None, MAINLAND)

    @property
    def card_rules_apply(self) -> bool:
        """Credit-card law (恶意透支, 个性化分期 第七十条) applies: a card, or nothing says otherwise."""
        return self.loan_type in (None, "credit_card")


def _kind(annotation: str) -> str:
    if annotation.startswith("Tuple[int"):
        return NUMBERS
    if annotation.startswith("Tuple"):
        return TEXTS
    if "int" in annotation:
        return NUMBER
    return TEXT


FACT_KINDS: Dict[str, str] = {f.name: _kind(str(f.type)) for f in fields(Facts)}
NUMERIC_FACTS = frozenset(name for name, kind in FACT_KINDS.items() if kind == NUMBER)
_CHOICES: Dict[str, Tuple[str, ...]] = {f.name: f.metadata["choices"] for f in fields(Facts) if f.metadata["choices"]}


def facts_from(*sources: str) -> Tuple[str, ...]:
    """The facts that come from these sources (ENTITY, MERGED, DERIVED, MESSAGE), in field order."""
    return tuple(f.name for f in fields(Facts) if f.metadata["source"] in sources)


def unit_of(fact: str) -> Optional[str]:
    """YUAN or DAYS for a number fact, None for the others (and for names that are not facts)."""
    return next((f.metadata["unit"] for f in fields(Facts) if f.name == fact), None)


REMEMBERED_FACTS = facts_from(ENTITY, MERGED, DERIVED)  # kept in slots for the whole conversation


def choices(fact: str) -> Optional[Tuple[str, ...]]:
    """The canonical values a categorical fact may take (None: free text such as a bank name)."""
    return _CHOICES.get(fact)
