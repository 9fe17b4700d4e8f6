"""Load and schema-check actions/knowledge/flows.yml: every user-facing text of the
three guided flows (collector check, installment planner, incident log).

Read lazily on first use and cached; nothing is read at import time. The canonical
values the flows accept (slot values, entity values) are defined here, next to the
schema that checks the YAML covers exactly them.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

import yaml

from actions.advice.facts import BEHAVIORS
from actions.advice.kb import KNOWLEDGE_DIR, KnowledgeBase, KnowledgeBaseError, Provision, load_kb

FLOWS_FILE = "flows.yml"

# ---- canonical values (the contract with NLU, slots and forms) -------------------

CLAIMS = ("bank", "agency", "police", "court", "unknown")
LEVELS = ("legit_looking", "doubtful", "verify_official", "unlawful_conduct", "likely_scam")  # least serious first
# Red flag (or note) of the collector check -> the level it raises the verdict to (None: a note only).
RED_FLAG_LEVELS: Dict[str, Optional[str]] = {
    "official_money": "likely_scam",
    "personal_account": "likely_scam",
    "safety_threat": "unlawful_conduct",
    "forced_entry": "unlawful_conduct",
    "refused_to_leave": "unlawful_conduct",
    "disclosed_to_others": "unlawful_conduct",
    "claims_court": "verify_official",
    "claims_police": "verify_official",
    "night_visit": "doubtful",
    "identity_unknown": "doubtful",
    "no_id": "doubtful",
    "id_unchecked": "doubtful",
    "no_authorisation": "doubtful",
    "lawful_pressure": None,
    "invited_entry": None,
    "located_via_others": None,
    "single_visitor": None,
}
RED_FLAGS = tuple(RED_FLAG_LEVELS)
PLAN_REASONS = (
    "fits_min_period",
    "fits",
    "exceeds_max_period",
    "no_income",
    "expenses_exceed_income",
    "too_little_disposable",
    "income_unknown",
)
PLAN_NOTES = (
    "interest_not_included",
    "negotiated_basis",
    "loan_basis",
    "expense_assumed",
    "overdue_unknown",
    "criminal_threshold",
    "short_plan",
)
HOLDER_KINDS = ("credit_card", "loan")  # the letter and script speak to a card issuer or to a lender
PROPOSALS = ("plan", "stretch", "none", "unknown")
OVERDUE_FORMS = ("known", "zero", "unknown")
EVIDENCE = ("录音", "录像", "截图", "通话记录", "证人", "没有")
INCIDENT_STEP_KEYS = ("urgent", "always", "no_evidence", "impersonation", "payment", "contacted", "spouse", "privacy")

# Fields each kind of template may use (checked at load time, so a typo fails fast).
_PLAN_VALUES = frozenset(
    {
        "amount",
        "affordable",
        "periods",
        "monthly",
        "needed_monthly",
        "disposable",
        "share",
        "expense_share",
        "min_periods",
        "max_periods",
        "round_to",
        "hotline",
    }
)
_FIELDS: Dict[str, FrozenSet[str]] = {
    "none": frozenset(),
    "hotline_known": frozenset({"bank", "number"}),
    "collector_step": frozenset({"hotline"}),
    "plan": _PLAN_VALUES,
    "letter": frozenset(
        {"bank", "amount", "overdue_sentence", "income", "expense", "proposal", "holder", "basis_sentence", "today"}
    ),
    "basis_sentence": frozenset({"basis"}),
    "holder": frozenset({"bank"}),
    "overdue": frozenset({"overdue"}),
    "phone": frozenset({"holder", "amount", "proposal"}),
    "summary": frozenset({"today", "when", "bank", "events", "contacted", "evidence"}),
    "complaint": frozenset({"reminder", "today", "when", "bank", "facts", "contacted", "assessment", "evidence"}),
    "event_line": frozenset({"number", "fact"}),
    "contacted_line": frozenset({"relations"}),
    "assessment": frozenset({"assessment"}),
    "citations": frozenset({"citations"}),
    "condition": frozenset({"condition"}),
    "format_number": frozenset({"n"}),
    "format_date": frozenset({"year", "month", "day"}),
}


class FlowsError(KnowledgeBaseError):
    """flows.yml breaks the schema, or names a provision the KB does not have."""


# ---- the loaded structure ---------------------------------------------------------


@dataclass(frozen=True)
class CitedText:
    text: str
    provisions: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Formats:
    amount: str
    days: str
    months: str
    about_months: str
    date: str
    list_sep: str
    hotline_known: str
    hotline_fallback: str
    placeholder_bank: str


@dataclass(frozen=True)
class CollectorFlow:
    labels: Dict[str, str]
    red_flags: Dict[str, CitedText]
    verify_steps: Dict[str, Tuple[str, ...]]  # always / police / court
    next_steps: Dict[str, Tuple[str, ...]]  # per level
    flag_next_steps: Dict[str, Tuple[str, ...]]  # per red flag (optional entries)


@dataclass(frozen=True)
class PlannerFlow:
    basis_provision: str
    reasons: Dict[str, str]
    notes: Dict[str, str]
    next_steps: Dict[str, Tuple[str, ...]]  # feasible / infeasible
    letter: str
    letter_proposal: Dict[str, str]
    letter_holder: Dict[str, str]
    letter_basis: Dict[str, str]
    overdue_sentence: Dict[str, str]
    placeholder_income: str
    placeholder_expense: str
    phone_script: str
    phone_proposal: Dict[str, str]
    phone_holder: Dict[str, str]
    checklist: Tuple[str, ...]
    agent_warning: CitedText
    commitment_warning: CitedText


@dataclass(frozen=True)
class BreachRule:
    """Provisions a behaviour may breach; with a condition, only when that condition holds."""

    provisions: Tuple[str, ...]
    condition: Optional[str] = None  # shown as "这要看：…"
    met_by: Tuple[str, ...] = ()  # reported behaviours that make the condition true

    def holds(self, behaviors: Iterable[str]) -> bool:
        return self.condition is None or any(b in self.met_by for b in behaviors)


@dataclass(frozen=True)
class BehaviorSpec:
    fact: str
    mappings: Tuple[BreachRule, ...]
    urgent: bool

    @property
    def provisions(self) -> Tuple[str, ...]:
        """Every provision any of its mappings names."""
        return tuple(dict.fromkeys(p for m in self.mappings for p in m.provisions))


@dataclass(frozen=True)
class IncidentFlow:
    behaviors: Dict[str, BehaviorSpec]
    relation_rules: Tuple[BreachRule, ...]  # what contacting the user's relations may breach
    evidence_labels: Dict[str, str]
    placeholder_when: str
    breach_law: str
    breach_soft: str
    breach_joiner: str
    assessment_none: str
    breach_condition: str
    event_line: str
    contacted_line: str
    line_assessment: str
    summary: str
    complaint_to_bank: str
    complaint_to_12378: str
    truth_reminder: str
    next_steps: Dict[str, Tuple[str, ...]]


@dataclass(frozen=True)
class Flows:
    formats: Formats
    collector: CollectorFlow
    planner: PlannerFlow
    incident: IncidentFlow

    def provision_refs(self) -> Tuple[Tuple[str, str], ...]:
        """(key in flows.yml, provision id) of every provision reference, in file order."""
        refs = [
            (f"collector_check.red_flags.{flag}", pid)
            for flag, text in self.collector.red_flags.items()
            for pid in text.provisions
        ]
        refs.append(("planner.basis_provision", self.planner.basis_provision))
        refs += [("planner.agent_warning", pid) for pid in self.planner.agent_warning.provisions]
        refs += [("planner.commitment_warning", pid) for pid in self.planner.commitment_warning.provisions]
        refs += [
            (f"incident.behaviors.{behavior}.mappings[{i}]", pid)
            for behavior, spec in self.incident.behaviors.items()
            for i, rule in enumerate(spec.mappings)
            for pid in rule.provisions
        ]
        refs += [
            (f"incident.relations.mappings[{i}]", pid)
            for i, rule in enumerate(self.incident.relation_rules)
            for pid in rule.provisions
        ]
        return tuple(refs)

    def provision_ids(self) -> Tuple[str, ...]:
        """Every provision id flows.yml references, in first-seen order."""
        return tuple(dict.fromkeys(pid for _, pid in self.provision_refs()))


# ---- schema helpers ------------------------------------------------------------------


def _section(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise FlowsError(f"{where}.{key}: must be a mapping")
    return value


def _text(data: Mapping[str, Any], key: str, where: str, fields: str = "none") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FlowsError(f"{where}.{key}: must be a non-empty string")
    _check_fields(value, fields, f"{where}.{key}")
    return value


def _texts(
    data: Mapping[str, Any], key: str, where: str, fields: str = "none", allow_empty: bool = False
) -> Tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or (not value and not allow_empty):
        raise FlowsError(f"{where}.{key}: must be a non-empty list of strings")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise FlowsError(f"{where}.{key}[{i}]: must be a non-empty string")
        _check_fields(item, fields, f"{where}.{key}[{i}]")
    return tuple(value)


def _ids(value: Any, where: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise FlowsError(f"{where}: provisions must be a list of ids")
    return tuple(value)


# A space between two Chinese characters is a YAML folding accident (">" joins lines with " ").
_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_STRAY_SPACE = re.compile(f"[{_CJK}][ \t]+[{_CJK}]")


def _check_fields(template: str, fields: str, where: str) -> None:
    if _STRAY_SPACE.search(template):
        raise FlowsError(f"{where}: stray space between Chinese characters")
    allowed = _FIELDS[fields]
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise FlowsError(f"{where}: bad template: {exc}") from exc
    unknown = names - allowed
    if unknown:
        raise FlowsError(f"{where}: unknown template field(s) {sorted(unknown)}")


def _exact_keys(mapping: Mapping[str, Any], expected: Iterable[str], where: str, subset: bool = False) -> None:
    expected = set(expected)
    keys = set(mapping)
    missing = set() if subset else expected - keys
    extra = keys - expected
    if missing or extra:
        raise FlowsError(f"{where}: missing {sorted(missing)}, unexpected {sorted(extra)}")


def _cited(entry: Any, where: str, fields: str = "none") -> CitedText:
    if not isinstance(entry, dict):
        raise FlowsError(f"{where}: must be a mapping with text and provisions")
    return CitedText(_text(entry, "text", where, fields), _ids(entry.get("provisions"), f"{where}.provisions"))


def _text_map(
    data: Mapping[str, Any], key: str, keys: Iterable[str], where: str, fields: str = "none"
) -> Dict[str, str]:
    section = _section(data, key, where)
    _exact_keys(section, keys, f"{where}.{key}")
    return {k: _text(section, k, f"{where}.{key}", fields) for k in keys}


def _steps_map(
    data: Mapping[str, Any], key: str, keys: Iterable[str], where: str, fields: str = "none", subset: bool = False
) -> Dict[str, Tuple[str, ...]]:
    section = _section(data, key, where)
    _exact_keys(section, keys, f"{where}.{key}", subset=subset)
    return {k: _texts(section, k, f"{where}.{key}", fields) for k in section}


# ---- sections -----------------------------------------------------------------------


def _formats(data: Mapping[str, Any]) -> Formats:
    where = "formats"
    section = _section(data, where, "flows.yml")
    return Formats(
        amount=_text(section, "amount", where, "format_number"),
        days=_text(section, "days", where, "format_number"),
        months=_text(section, "months", where, "format_number"),
        about_months=_text(section, "about_months", where, "format_number"),
        date=_text(section, "date", where, "format_date"),
        list_sep=_text(section, "list_sep", where),
        hotline_known=_text(section, "hotline_known", where, "hotline_known"),
        hotline_fallback=_text(section, "hotline_fallback", where),
        placeholder_bank=_text(section, "placeholder_bank", where),
    )


def _collector(data: Mapping[str, Any]) -> CollectorFlow:
    where = "collector_check"
    section = _section(data, where, "flows.yml")
    flags = _section(section, "red_flags", where)
    _exact_keys(flags, RED_FLAGS, f"{where}.red_flags")
    return CollectorFlow(
        labels=_text_map(section, "labels", LEVELS, where),
        red_flags={k: _cited(flags[k], f"{where}.red_flags.{k}") for k in RED_FLAGS},
        verify_steps=_steps_map(section, "verify_steps", ("always", "police", "court"), where, "collector_step"),
        next_steps=_steps_map(section, "next_steps", LEVELS, where, "collector_step"),
        flag_next_steps=_steps_map(section, "flag_next_steps", RED_FLAGS, where, "collector_step", subset=True),
    )


def _basis_sentences(letter: Mapping[str, Any], where: str) -> Dict[str, str]:
    """The sentence citing 第七十条 for cards; loans have no such rule, so theirs is empty."""
    section = _section(letter, "basis_sentence", where)
    _exact_keys(section, HOLDER_KINDS, f"{where}.basis_sentence")
    card = _text(section, "credit_card", f"{where}.basis_sentence", "basis_sentence")
    if section.get("loan") != "":
        raise FlowsError(f"{where}.basis_sentence.loan: must be empty (no legal basis for loans)")
    return {"credit_card": card, "loan": ""}


def _planner(data: Mapping[str, Any]) -> PlannerFlow:
    where = "planner"
    section = _section(data, where, "flows.yml")
    letter = _section(section, "letter", where)
    phone = _section(section, "phone_script", where)
    basis = section.get("basis_provision")
    if not isinstance(basis, str) or not basis:
        raise FlowsError(f"{where}.basis_provision: must be a provision id")
    return PlannerFlow(
        basis_provision=basis,
        reasons=_text_map(section, "reasons", PLAN_REASONS, where, "plan"),
        notes=_text_map(section, "notes", PLAN_NOTES, where, "plan"),
        next_steps=_steps_map(section, "next_steps", ("feasible", "infeasible"), where, "plan"),
        letter=_text(letter, "template", f"{where}.letter", "letter"),
        letter_proposal=_text_map(letter, "proposal", PROPOSALS, f"{where}.letter", "plan"),
        letter_holder=_text_map(letter, "holder", HOLDER_KINDS, f"{where}.letter"),
        letter_basis=_basis_sentences(letter, f"{where}.letter"),
        overdue_sentence=_text_map(letter, "overdue_sentence", OVERDUE_FORMS, f"{where}.letter", "overdue"),
        placeholder_income=_text(letter, "placeholder_income", f"{where}.letter"),
        placeholder_expense=_text(letter, "placeholder_expense", f"{where}.letter"),
        phone_script=_text(phone, "template", f"{where}.phone_script", "phone"),
        phone_proposal=_text_map(phone, "proposal", PROPOSALS, f"{where}.phone_script", "plan"),
        phone_holder=_text_map(phone, "holder", HOLDER_KINDS, f"{where}.phone_script", "holder"),
        checklist=_texts(section, "checklist", where),
        agent_warning=_cited(section.get("agent_warning"), f"{where}.agent_warning"),
        commitment_warning=_cited(section.get("commitment_warning"), f"{where}.commitment_warning"),
    )


def _mapping(entry: Any, where: str) -> BreachRule:
    if not isinstance(entry, dict) or not entry.get("provisions"):
        raise FlowsError(f"{where}: a mapping needs provisions")
    _exact_keys(entry, ("provisions", "condition", "met_by"), where, subset=True)
    condition = _text(entry, "condition", where) if "condition" in entry else None
    met_by = _ids(entry.get("met_by"), f"{where}.met_by")
    unknown = [b for b in met_by if b not in BEHAVIORS]
    if unknown or (met_by and condition is None):
        raise FlowsError(f"{where}.met_by: needs a condition and known behaviours, got {list(met_by)}")
    return BreachRule(_ids(entry["provisions"], f"{where}.provisions"), condition, met_by)


def _behavior(entry: Any, where: str) -> BehaviorSpec:
    if not isinstance(entry, dict):
        raise FlowsError(f"{where}: must be a mapping")
    _exact_keys(entry, ("fact", "mappings", "urgent"), where, subset=True)
    urgent = entry.get("urgent", False)
    if not isinstance(urgent, bool):
        raise FlowsError(f"{where}.urgent: must be true or false")
    mappings = entry.get("mappings")
    if not isinstance(mappings, list):
        raise FlowsError(f"{where}.mappings: must be a list (may be empty)")
    return BehaviorSpec(
        _text(entry, "fact", where),
        tuple(_mapping(m, f"{where}.mappings[{i}]") for i, m in enumerate(mappings)),
        urgent,
    )


def _incident(data: Mapping[str, Any]) -> IncidentFlow:
    where = "incident"
    section = _section(data, where, "flows.yml")
    behaviors = _section(section, "behaviors", where)
    _exact_keys(behaviors, BEHAVIORS, f"{where}.behaviors")
    relations = _section(section, "relations", where)
    breach = _section(section, "breach", where)
    templates = _section(section, "templates", where)
    return IncidentFlow(
        behaviors={b: _behavior(behaviors[b], f"{where}.behaviors.{b}") for b in BEHAVIORS},
        relation_rules=tuple(
            _mapping(m, f"{where}.relations.mappings[{i}]") for i, m in enumerate(relations.get("mappings") or [])
        ),
        evidence_labels=_text_map(section, "evidence_labels", EVIDENCE, where),
        placeholder_when=_text(section, "placeholder_when", where),
        breach_law=_text(breach, "law", f"{where}.breach", "citations"),
        breach_soft=_text(breach, "soft", f"{where}.breach", "citations"),
        breach_joiner=_text(breach, "joiner", f"{where}.breach"),
        assessment_none=_text(breach, "none", f"{where}.breach"),
        breach_condition=_text(breach, "condition", f"{where}.breach", "condition"),
        event_line=_text(templates, "event_line", f"{where}.templates", "event_line"),
        contacted_line=_text(templates, "contacted_line", f"{where}.templates", "contacted_line"),
        line_assessment=_text(templates, "line_assessment", f"{where}.templates", "assessment"),
        summary=_text(templates, "summary", f"{where}.templates", "summary"),
        complaint_to_bank=_text(templates, "complaint_to_bank", f"{where}.templates", "complaint"),
        complaint_to_12378=_text(templates, "complaint_to_12378", f"{where}.templates", "complaint"),
        truth_reminder=_text(section, "truth_reminder", where),
        next_steps=_steps_map(section, "next_steps", INCIDENT_STEP_KEYS, where),
    )


def build_flows(data: Mapping[str, Any]) -> Flows:
    """Validate the raw YAML mapping (separate from I/O so tests can feed bad data)."""
    if not isinstance(data, dict):
        raise FlowsError("flows.yml: top level must be a mapping")
    _exact_keys(data, ("version", "formats", "collector_check", "planner", "incident"), "flows.yml")
    if data.get("version") != 1:
        raise FlowsError("flows.yml: version must be 1")
    return Flows(
        formats=_formats(data),
        collector=_collector(data),
        planner=_planner(data),
        incident=_incident(data),
    )


def check_references(flows: Flows, kb: KnowledgeBase) -> None:
    """Every provision id in flows.yml must exist in provisions.yml (as load_kb checks guidance.yml's)."""
    for where, pid in flows.provision_refs():
        if pid not in kb.provisions:
            raise FlowsError(f"{FLOWS_FILE}:{where}: unknown provision {pid!r}")


def resolve(ids: Iterable[str], kb: KnowledgeBase) -> Tuple[Provision, ...]:
    """Provision objects for ids, deduplicated, in order; unknown ids are an error."""
    out = []
    for pid in dict.fromkeys(ids):
        if pid not in kb.provisions:
            raise FlowsError(f"flows.yml: unknown provision id {pid!r}")
        out.append(kb.provisions[pid])
    return tuple(out)


@functools.lru_cache(maxsize=1)
def load_flows() -> Flows:
    """flows.yml, read, schema-checked and checked against the knowledge base once per process."""
    path = KNOWLEDGE_DIR / FLOWS_FILE
    with path.open(encoding="utf-8") as handle:
        flows = build_flows(yaml.safe_load(handle))
    check_references(flows, load_kb())
    return flows


# ---- small shared formatters (numbers, dates, hotline) ------------------------------


def format_amount(amount: int, formats: Formats) -> str:
    return formats.amount.format(n=f"{amount:,}")


def format_date(day: date, formats: Formats) -> str:
    return formats.date.format(year=day.year, month=day.month, day=day.day)


def hotline_text(bank: Optional[str], kb: KnowledgeBase, formats: Formats) -> str:
    """The bank's official number (Bank.official_number) in a sentence, or where to find one."""
    entry = kb.bank_by_name(bank)
    if entry is None or entry.official_number is None:
        return formats.hotline_fallback
    return formats.hotline_known.format(bank=entry.name, number=entry.official_number)
