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

from actions.advice.facts import FACT_KINDS, JURISDICTIONS, MAINLAND, NUMERIC_FACTS, choices

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
SOFT_LAW_KINDS = ("self_regulation", "national_standard")  # not law: phrased softer, never passed off as law
NUMERIC_OPS = {"lt", "lte", "gt", "gte"}
WORDINGS = {"verbatim", "paraphrase"}  # paraphrase: never shown inside quotation marks
JURISDICTIONS_OUTSIDE = tuple(j for j in JURISDICTIONS if j != MAINLAND)
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
    wording: str = "verbatim"
    applies_to: Optional[str] = None  # "credit_card": card-only rules (恶意透支, 个性化分期 …)

    @property
    def card_only(self) -> bool:
        return self.applies_to == "credit_card"

    @property
    def paraphrased(self) -> bool:
        return self.wording == "paraphrase"

    @property
    def soft_law(self) -> bool:
        """Self-regulation and recommended standards: not law."""
        return self.kind in SOFT_LAW_KINDS

    @property
    def citation(self) -> str:
        """《简称》第X条, or just 《简称》 when the article number is not citable."""
        if self.article:
            return f"《{self.short_name}》{self.article}"
        return f"《{self.short_name}》"


_DIALABLE = re.compile(r"^\d[\d-]{1,14}")


@dataclass(frozen=True)
class HelpChannel:
    id: str
    name: str
    contact: str
    scope: str

    @property
    def tel(self) -> Optional[str]:
        """The number to dial (for tel: links), or None when the contact is not a phone number."""
        match = _DIALABLE.match(self.contact)
        return match.group().replace("-", "") if match else None


@dataclass(frozen=True)
class Bank:
    name: str
    aliases: Tuple[str, ...]
    hotline: str
    card_hotline: Optional[str]

    @property
    def official_number(self) -> Optional[str]:
        """The number to give users (card line first); None when the KB only says where to look."""
        for number in (self.card_hotline, self.hotline):
            if number and _DIALABLE.match(number):
                return number
        return None

    @property
    def contact(self) -> str:
        """What an answer shows to reach the bank: its official number, else where the KB says to find it."""
        return self.official_number or self.hotline


def validate_bank(value: Any) -> Optional[str]:
    """A lender's name as a flow may hold it: None or a non-empty name (trimmed); ValueError otherwise."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"bank must be a non-empty name or None, got {value!r}")
    return value.strip()


@dataclass(frozen=True)
class Variant:
    id: str
    when: Mapping[str, Any]
    answer: Optional[str] = None
    note: Optional[str] = None
    steps: Tuple[str, ...] = ()
    provisions: Tuple[str, ...] = ()
    help: Tuple[str, ...] = ()
    # 1-based base steps that this variant's steps stand in for, in order (one step each)
    replaces: Tuple[int, ...] = ()
    drop_provisions: Tuple[str, ...] = ()  # base provisions that do not hold for these facts


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
class OutsideMainland:
    """What to say when the debt is in Taiwan or Hong Kong: no mainland citations."""

    places: Dict[str, str]  # jurisdiction -> its name in the answer
    answer: str  # {place}
    steps: Tuple[str, ...]
    emergency_answer: str
    emergency_steps: Tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    provisions: Dict[str, Provision]
    help_channels: Dict[str, HelpChannel]
    banks: Tuple[Bank, ...]
    guidance: Dict[str, Guidance]
    labels: Dict[str, str] = field(default_factory=dict)
    outside: Optional[OutsideMainland] = None
    flow_requests: Dict[str, Tuple["re.Pattern[str]", ...]] = field(default_factory=dict)  # offer -> patterns
    local_help: Dict[str, Tuple[HelpChannel, ...]] = field(default_factory=dict)  # by jurisdiction

    def requested_flow(self, text: str) -> Optional[str]:
        """The guided flow (offer name) the text asks for outright, if any."""
        for offer, patterns in self.flow_requests.items():
            if any(p.search(text) for p in patterns):
                return offer
        return None

    def bank_by_name(self, name: Optional[str]) -> Optional[Bank]:
        """The bank any of whose names this is; None for other lenders and for no name."""
        for bank in self.banks if name else ():
            if name == bank.name or name in bank.aliases:
                return bank
        return None

    def canonical_bank(self, name: str) -> str:
        """The KB's name of the bank (招行 -> 招商银行); another lender keeps the name given."""
        bank = self.bank_by_name(name)
        return bank.name if bank else name


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
    _require(
        entry, ["id", "instrument", "short_name", "quote", "text", "in_force", "source", "verification", "kind"], where
    )
    tag = entry["verification"]
    if tag not in VERIFICATION_TAGS:
        raise KnowledgeBaseError(f"{where}: unknown verification tag {tag!r}")
    if entry["kind"] not in KINDS:
        raise KnowledgeBaseError(f"{where}: unknown kind {entry['kind']!r}")
    article = entry.get("article")
    wording = entry.get("wording", "verbatim")
    if wording not in WORDINGS:
        raise KnowledgeBaseError(f"{where}: wording must be one of {sorted(WORDINGS)}")
    applies_to = entry.get("applies_to")
    if applies_to not in (None, "credit_card"):
        raise KnowledgeBaseError(f"{where}: applies_to must be credit_card or absent")
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
        wording=wording,
        applies_to=applies_to,
    )


def _check_when(when: Any, where: str) -> Mapping[str, Any]:
    """`when` names facts of the Facts dataclass; a list test may hold null (fact unknown)."""
    if not isinstance(when, dict) or not when:
        raise KnowledgeBaseError(f"{where}: 'when' must be a non-empty mapping")
    for fact, test in when.items():
        if fact not in FACT_KINDS:
            raise KnowledgeBaseError(f"{where}: unknown fact {fact!r}")
        if test == "any":
            continue
        if isinstance(test, list):
            allowed = choices(fact)
            bad = [v for v in test if v is not None and allowed is not None and v not in allowed]
            if bad:
                raise KnowledgeBaseError(f"{where}: {fact!r} has no value(s) {bad}")
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
        replaces=_step_numbers(entry.get("replaces"), where),
        drop_provisions=_tuple(entry.get("drop_provisions")),
    )


def _step_numbers(value: Any, where: str) -> Tuple[int, ...]:
    numbers = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if numbers is None:
        return ()
    if not isinstance(numbers, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise KnowledgeBaseError(f"{where}: 'replaces' must be a step number or a list of them")
    return tuple(numbers)


def _check_replaces(variant: Variant, guidance_steps: Tuple[str, ...], where: str) -> Variant:
    if not variant.replaces:
        return variant
    bad = [n for n in variant.replaces if not 1 <= n <= len(guidance_steps)]
    if bad or len(variant.steps) != len(variant.replaces) or len(set(variant.replaces)) != len(variant.replaces):
        raise KnowledgeBaseError(
            f"{where}:{variant.id}: 'replaces' must name distinct base steps "
            f"(1..{len(guidance_steps)}), one per variant step"
        )
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


def _flow_requests(entry: Mapping[str, Any]) -> Dict[str, Tuple["re.Pattern[str]", ...]]:
    out = {}
    for offer, patterns in entry.items():
        try:
            out[str(offer)] = tuple(re.compile(str(p)) for p in patterns)
        except re.error as exc:
            raise KnowledgeBaseError(f"guidance.yml:flow_requests:{offer}: {exc}") from exc
    return out


def _outside(entry: Any) -> Optional[OutsideMainland]:
    if entry is None:
        return None
    where = "guidance.yml:outside_mainland"
    _require(entry, ["places", "answer", "steps", "emergency_answer", "emergency_steps"], where)
    places = {str(k): str(v) for k, v in entry["places"].items()}
    if set(places) != set(JURISDICTIONS_OUTSIDE):
        raise KnowledgeBaseError(f"{where}: places must name exactly {JURISDICTIONS_OUTSIDE}")
    return OutsideMainland(
        places=places,
        answer=str(entry["answer"]),
        steps=_tuple(entry["steps"]),
        emergency_answer=str(entry["emergency_answer"]),
        emergency_steps=_tuple(entry["emergency_steps"]),
    )


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
        banks.append(
            Bank(entry["name"], _tuple(entry.get("aliases")), str(entry["hotline"]), str(card) if card else None)
        )

    local_help: Dict[str, List[HelpChannel]] = {}
    for entry in contacts.get("local_help") or []:
        where = f"contacts.yml:local_help:{entry.get('id', '?')}"
        _require(entry, ["id", "jurisdiction", "name", "scope"], where)
        if entry["jurisdiction"] not in JURISDICTIONS_OUTSIDE:
            raise KnowledgeBaseError(f"{where}: jurisdiction must be one of {JURISDICTIONS_OUTSIDE}")
        if entry.get("contact") and not entry.get("source"):
            raise KnowledgeBaseError(f"{where}: a contact needs its source")
        channel = HelpChannel(entry["id"], entry["name"], str(entry.get("contact") or ""), entry["scope"])
        local_help.setdefault(entry["jurisdiction"], []).append(channel)

    intents = guidance.get("intents") or {}
    kb = KnowledgeBase(
        provisions=provision_map,
        help_channels=channels,
        banks=tuple(banks),
        guidance={name: _guidance(name, entry) for name, entry in intents.items()},
        labels={k: str(v) for k, v in (guidance.get("labels") or {}).items()},
        outside=_outside(guidance.get("outside_mainland")),
        flow_requests=_flow_requests(guidance.get("flow_requests") or {}),
        local_help={k: tuple(v) for k, v in local_help.items()},
    )
    _check_references(kb)
    return kb


@functools.lru_cache(maxsize=1)
def load_kb() -> KnowledgeBase:
    """The knowledge base, read and checked once per process."""
    return build_kb(_read("provisions.yml"), _read("contacts.yml"), _read("guidance.yml"))
