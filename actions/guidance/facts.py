"""What the user has told us, normalised: the input of every guidance rule."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Tuple


def _as_int(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
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


@dataclass(frozen=True)
class Facts:
    bank: Optional[str] = None
    amount: Optional[int] = None
    monthly_income: Optional[int] = None
    monthly_expense: Optional[int] = None
    overdue_duration: Optional[int] = None  # days
    relation: Tuple[str, ...] = ()
    behavior: Tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Facts":
        bank = values.get("bank")
        if isinstance(bank, (list, tuple)):
            bank = bank[0] if bank else None
        return cls(
            bank=str(bank) if bank else None,
            amount=_as_int(values.get("amount")),
            monthly_income=_as_int(values.get("monthly_income")),
            monthly_expense=_as_int(values.get("monthly_expense")),
            overdue_duration=_as_int(values.get("overdue_duration")),
            relation=_as_tuple(values.get("relation")),
            behavior=_as_tuple(values.get("behavior")),
        )

    def get(self, name: str) -> Any:
        return getattr(self, name)
