"""Load and schema-check the legal knowledge base (YAML under actions/knowledge/).

Loaded lazily on first use and cached; nothing is read at import time.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"

# Tags from ../shared/legal_facts.md. Only these may be cited with an article number.
ARTICLE_CITABLE = {"VERIFIED-1st", "VERIFIED-2nd", "MEMORY-h"}
VERIFICATION_TAGS = ARTICLE_CITABLE | {"MEMORY-m", "MEMORY-l", "UNVERIFIED"}
KINDS = {
    "constitution",
    "law",
    "judicial_interpretation",
    "administrative_regulation",
    "departmental_rule",
    "regulatory_notice",
    "self_regulation",
    "national_standard",
}
NUMERIC_OPS = {"lt", "lte", "gt", "gte"}
FACTS = {
    "bank",
    "amount",
    "monthly_income",
    "monthly_expense",
    "overdue_duration",
    "relation",
    "behavior",
}
NUMERIC_FACTS = {"amount", "monthly_income", "monthly_expense", "overdue_duration"}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class KnowledgeBaseError(ValueError):
    """The knowledge base files break the schema."""


@dataclass(frozen=True)
class Provision:
    id: str
    instrument: str
    short_name: str
    article: Optional[str]
    quote: str
    text: str
    in_force: str
    source: str
    verification: str
    kind: str

    @property
    def citation(self) -> str:
        """《简称》第X条, or just 《简称》 when the article number is not citable."""
        if self.article:
            return f"《{self.short_name}》{self.article}"
        return f"《{self.short_name}》"


@dataclass(frozen=True)
class HelpChannel:
    id: str
    name: str
    contact: str
    scope: str


@dataclass(frozen=True)
class Bank:
    name: str
    aliases: Tuple[str, ...]
    hotline: str
    card_hotline: Optional[str]


@dataclass(frozen=True)
class Variant:
    id: str
    when: Mapping[str, Any]
    answer: Optional[str] = None
    note: Optional[str] = None
    steps: Tuple[str, ...] = ()
    provisions: Tuple[str, ...] = ()
    help: Tuple[str, ...] = ()
    replaces: Optional[int] = None  # 1-based base step that this variant's steps stand in for


@dataclass(frozen=True)
class Guidance:
    intent: str
    answer: str
    steps: Tuple[str, ...]
    provisions: Tuple[str, ...]
    help: Tuple[str, ...]
    variants: Tuple[Variant, ...] = ()
    offer: Optional[str] = None
    title: Optional[str] = None  # short topic name for clarification buttons


@dataclass(frozen=True)
class KnowledgeBase:
    provisions: Dict[str, Provision]
    help_channels: Dict[str, HelpChannel]
    banks: Tuple[Bank, ...]
    guidance: Dict[str, Guidance]
    labels: Dict[str, str] = field(default_factory=dict)

    def bank_by_name(self, name: str) -> Optional[Bank]:
        for bank in self.banks:
            if name == bank.name or name in bank.aliases:
                return bank
        return None


def _read(name: str) -> Dict[str, Any]:
    path = KNOWLEDGE_DIR / name
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{name}: top level must be a mapping")
    return data


def _require(entry: Mapping[str, Any], keys: List[str], where: str) -> None:
    missing = [k for k in keys if entry.get(k) in (None, "", [])]
    if missing:
        raise KnowledgeBaseError(f"{where}: missing {', '.join(missing)}")


def _tuple(value: Any) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _provision(entry: Mapping[str, Any]) -> Provision:
    where = f"provisions.yml:{entry.get('id', '?')}"
    _require(entry, ["id", "instrument", "short_name", "quote", "text", "in_force", "source", "verification", "kind"], where)
    tag = entry["verification"]
    if tag not in VERIFICATION_TAGS:
        raise KnowledgeBaseError(f"{where}: unknown verification tag {tag!r}")
    if entry["kind"] not in KINDS:
        raise KnowledgeBaseError(f"{where}: unknown kind {entry['kind']!r}")
    article = entry.get("article")
    if article and tag not in ARTICLE_CITABLE:
        raise KnowledgeBaseError(f"{where}: {tag} may not carry an article number")
    in_force = str(entry["in_force"])
    if not DATE_RE.match(in_force):
        raise KnowledgeBaseError(f"{where}: in_force must be YYYY-MM-DD")
    return Provision(
        id=entry["id"],
        instrument=entry["instrument"],
        short_name=entry["short_name"],
        article=article or None,
        quote=entry["quote"],
        text=entry["text"],
        in_force=in_force,
        source=entry["source"],
        verification=tag,
        kind=entry["kind"],
    )


def _check_when(when: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(when, dict) or not when:
        raise KnowledgeBaseError(f"{where}: 'when' must be a non-empty mapping")
    for fact, test in when.items():
        if fact not in FACTS:
            raise KnowledgeBaseError(f"{where}: unknown fact {fact!r}")
        if test == "any" or isinstance(test, list):
            continue
        if isinstance(test, dict) and test and set(test) <= NUMERIC_OPS and fact in NUMERIC_FACTS:
            continue
        raise KnowledgeBaseError(f"{where}: bad test for {fact!r}: {test!r}")
    return when


def _variant(entry: Mapping[str, Any], intent: str) -> Variant:
    where = f"guidance.yml:{intent}:{entry.get('id', '?')}"
    _require(entry, ["id", "when"], where)
    if not any(entry.get(k) for k in ("answer", "note", "steps", "provisions", "help")):
        raise KnowledgeBaseError(f"{where}: variant changes nothing")
    return Variant(
        id=entry["id"],
        when=_check_when(entry["when"], where),
        answer=entry.get("answer"),
        note=entry.get("note"),
        steps=_tuple(entry.get("steps")),
        provisions=_tuple(entry.get("provisions")),
        help=_tuple(entry.get("help")),
        replaces=entry.get("replaces"),
    )


def _check_replaces(variant: Variant, steps: Tuple[str, ...], where: str) -> Variant:
    if variant.replaces is None:
        return variant
    number = variant.replaces
    if not variant.steps or isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(steps):
        raise KnowledgeBaseError(f"{where}:{variant.id}: 'replaces' must name a base step (1..{len(steps)}) and the variant needs steps")
    return variant


def _guidance(intent: str, entry: Mapping[str, Any]) -> Guidance:
    where = f"guidance.yml:{intent}"
    _require(entry, ["answer", "steps", "provisions", "help"], where)
    steps = _tuple(entry["steps"])
    return Guidance(
        intent=intent,
        answer=entry["answer"],
        steps=steps,
        provisions=_tuple(entry["provisions"]),
        help=_tuple(entry["help"]),
        variants=tuple(_check_replaces(_variant(v, intent), steps, where) for v in entry.get("variants") or []),
        offer=entry.get("offer"),
        title=entry.get("title"),
    )


def _check_references(kb: KnowledgeBase) -> None:
    for guidance in kb.guidance.values():
        parts = [(guidance.intent, guidance.provisions, guidance.help)]
        parts += [(f"{guidance.intent}:{v.id}", v.provisions, v.help) for v in guidance.variants]
        for where, provisions, helps in parts:
            for pid in provisions:
                if pid not in kb.provisions:
                    raise KnowledgeBaseError(f"guidance.yml:{where}: unknown provision {pid!r}")
            for hid in helps:
                if hid not in kb.help_channels:
                    raise KnowledgeBaseError(f"guidance.yml:{where}: unknown help channel {hid!r}")


def build_kb(provisions: Mapping[str, Any], contacts: Mapping[str, Any], guidance: Mapping[str, Any]) -> KnowledgeBase:
    """Validate raw YAML mappings into a KnowledgeBase (separate from I/O for tests)."""
    provision_map: Dict[str, Provision] = {}
    for entry in provisions.get("provisions") or []:
        item = _provision(entry)
        if item.id in provision_map:
            raise KnowledgeBaseError(f"provisions.yml: duplicate id {item.id!r}")
        provision_map[item.id] = item

    channels: Dict[str, HelpChannel] = {}
    for entry in contacts.get("help_channels") or []:
        _require(entry, ["id", "name", "contact", "scope"], f"contacts.yml:{entry.get('id', '?')}")
        channels[entry["id"]] = HelpChannel(entry["id"], entry["name"], str(entry["contact"]), entry["scope"])

    banks = []
    for entry in contacts.get("banks") or []:
        _require(entry, ["name", "hotline"], f"contacts.yml:bank:{entry.get('name', '?')}")
        card = entry.get("card_hotline")
        banks.append(Bank(entry["name"], _tuple(entry.get("aliases")), str(entry["hotline"]), str(card) if card else None))

    intents = guidance.get("intents") or {}
    kb = KnowledgeBase(
        provisions=provision_map,
        help_channels=channels,
        banks=tuple(banks),
        guidance={name: _guidance(name, entry) for name, entry in intents.items()},
        labels={k: str(v) for k, v in (guidance.get("labels") or {}).items()},
    )
    _check_references(kb)
    return kb


@functools.lru_cache(maxsize=1)
def load_kb() -> KnowledgeBase:
    """The knowledge base, read and checked once per process."""
    return build_kb(_read("provisions.yml"), _read("contacts.yml"), _read("guidance.yml"))
