"""Incident log: turn what the user reports into a dated record, each behaviour mapped to
the provisions it may breach ("可能违反", never "已构成犯罪"), and two truthful
complaint drafts (to the bank, to 12378) that contain only the facts given.

The behaviour → provision mapping lives in flows.yml (incident.behaviors) and uses
only ids from provisions.yml; self-regulation is phrased "可能不符合" and marked as
not law. A mapping that depends on a condition ("这要看：…", e.g. frequent calls
breach 治安法第五十条 only when insulting, threatening or 纠缠) is shown with that
condition in the record, and the complaints state the fact without the legal
conclusion unless the condition holds (another reported behaviour meets it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

from actions.advice.facts import BEHAVIORS, RELATIONS
from actions.advice.kb import KnowledgeBase, Provision, load_kb, validate_bank
from actions.flows.flows_kb import (
    EVIDENCE,
    BreachRule,
    Flows,
    format_date,
    load_flows,
    resolve,
)

MAX_WHEN_CHARS = 60
NO_EVIDENCE = "没有"
SPOUSE = "配偶"
IMPERSONATION = ("冒充警察", "冒充法院")
PAYMENT = ("索要额外费用", "转账私人账户")
PRIVACY = ("张贴", "曝光隐私")
# Phone or ID numbers typed into free text (dates such as 2026-11-21 22:30 stay readable).
_IDENTIFIER = re.compile(r"\d{7,}[Xx]?|\d{3}[- ]\d{4}[- ]\d{4}|\d{3,4}-\d{7,8}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_OMIT = "\x00"  # fills an optional line that is absent; _tidy removes that line


class Finding(NamedTuple):
    """Provisions a behaviour may breach, and the condition they depend on (None: it holds)."""

    provisions: Tuple[Provision, ...]
    open_condition: Optional[str]


class Event(NamedTuple):
    behavior: str
    findings: Tuple[Finding, ...]

    @property
    def provisions(self) -> Tuple[Provision, ...]:
        return tuple({p.id: p for f in self.findings for p in f.provisions}.values())


@dataclass(frozen=True)
class Incident:
    events: Tuple[Event, ...]
    contacted: Tuple[str, ...]
    contact_findings: Tuple[Finding, ...]
    evidence: Tuple[str, ...]
    when: str
    bank: Optional[str]
    today: date
    urgent: bool  # something that calls for 110 if it is still happening
    summary: str
    complaint_to_bank: str
    complaint_to_12378: str
    next_steps: Tuple[str, ...]

    @property
    def provisions(self) -> Tuple[Provision, ...]:
        """Every provision the record cites, in order of first mention."""
        cited = [p for e in self.events for p in e.provisions] + [
            p for f in self.contact_findings for p in f.provisions
        ]
        return tuple({p.id: p for p in cited}.values())


# ---- validation --------------------------------------------------------------------------


def _canonical(values: Iterable[str], allowed: Sequence[str], name: str) -> Tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    out = []
    for value in values:
        if value not in allowed:
            raise ValueError(f"unknown {name} {value!r}; expected one of {tuple(allowed)}")
        out.append(value)
    return tuple(dict.fromkeys(out))


def validate_behaviors(values: Iterable[str]) -> Tuple[str, ...]:
    return _canonical(values, BEHAVIORS, "behavior")


def validate_relations(values: Iterable[str]) -> Tuple[str, ...]:
    return _canonical(values, RELATIONS, "relation")


def validate_evidence(values: Iterable[str]) -> Tuple[str, ...]:
    """Canonical evidence; "没有" next to real evidence is dropped (the real evidence wins)."""
    evidence = _canonical(values, EVIDENCE, "evidence")
    real = tuple(e for e in evidence if e != NO_EVIDENCE)
    return real or ((NO_EVIDENCE,) if evidence else ())


def validate_when(value: Optional[str]) -> str:
    """The user's own words for the time, trimmed; long digit runs are masked so a phone
    or ID number typed by mistake never reaches a complaint. "" = not given."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"when must be text, got {value!r}")
    text = _CONTROL.sub(" ", value).strip()
    if len(text) > MAX_WHEN_CHARS:
        raise ValueError(f"when must be at most {MAX_WHEN_CHARS} characters")
    return _IDENTIFIER.sub(lambda m: re.sub(r"[\dXx]", "*", m.group()), text)


def validate_today(value: date) -> date:
    if not isinstance(value, date):
        raise ValueError(f"today must be a date, got {value!r}")
    return value


# ---- building blocks -------------------------------------------------------------------


def _assessment(provisions: Sequence[Provision], flows: Flows) -> str:
    """ "可能违反《A》第X条、《B》第Y条；可能不符合《C》（…不是法律）", or "" when none."""
    texts = flows.incident
    sep = flows.formats.list_sep
    law = list(dict.fromkeys(p.citation for p in provisions if not p.soft_law))
    soft = list(dict.fromkeys(p.citation for p in provisions if p.soft_law))
    parts = []
    if law:
        parts.append(texts.breach_law.format(citations=sep.join(law)))
    if soft:
        parts.append(texts.breach_soft.format(citations=sep.join(soft)))
    return texts.breach_joiner.join(parts)


def _line_with_findings(line: str, findings: Sequence[Finding], flows: Flows) -> str:
    """The record line: every finding, the conditional ones with "（这要看：…）"."""
    texts = flows.incident
    parts = []
    for finding in findings:
        text = _assessment(finding.provisions, flows)
        if finding.open_condition:
            text += texts.breach_condition.format(condition=finding.open_condition)
        parts.append(text)
    return line + texts.line_assessment.format(assessment=texts.breach_joiner.join(parts)) if parts else line


def _findings(rules: Sequence[BreachRule], reported: Tuple[str, ...], kb: KnowledgeBase) -> Tuple[Finding, ...]:
    return tuple(
        Finding(resolve(rule.provisions, kb), None if rule.holds(reported) else rule.condition) for rule in rules
    )


def _established(findings: Iterable[Finding]) -> List[Provision]:
    return [p for f in findings if f.open_condition is None for p in f.provisions]


def _dedupe(provisions: Iterable[Provision]) -> Tuple[Provision, ...]:
    return tuple({p.id: p for p in provisions}.values())


def _tidy(text: str) -> str:
    """Drop the lines of absent optional blocks (filled with _OMIT)."""
    return "\n".join(line for line in text.split("\n") if line != _OMIT).strip()


def _next_steps(
    behaviors: Tuple[str, ...], contacted: Tuple[str, ...], evidence: Tuple[str, ...], urgent: bool, flows: Flows
) -> Tuple[str, ...]:
    steps = flows.incident.next_steps
    out: List[str] = []
    if urgent:
        out += steps["urgent"]
    if any(b in IMPERSONATION for b in behaviors):
        out += steps["impersonation"]
    if any(b in PAYMENT for b in behaviors):
        out += steps["payment"]
    if not evidence or evidence == (NO_EVIDENCE,):
        out += steps["no_evidence"]
    out += steps["always"]
    if contacted:
        out += steps["contacted"]
    if SPOUSE in contacted:
        out += steps["spouse"]
    if any(b in PRIVACY for b in behaviors):
        out += steps["privacy"]
    return tuple(dict.fromkeys(out))


# ---- the flow --------------------------------------------------------------------------


def map_incident(
    behaviors: Iterable[str],
    when: Optional[str],
    contacted: Iterable[str],
    evidence: Iterable[str],
    bank: Optional[str],
    today: date,
    kb: Optional[KnowledgeBase] = None,
    flows: Optional[Flows] = None,
) -> Incident:
    """The cited record and the complaint drafts for what the user reported."""
    behaviors = validate_behaviors(behaviors)
    contacted = validate_relations(contacted)
    evidence = validate_evidence(evidence)
    when = validate_when(when)
    today = validate_today(today)
    if not behaviors and not contacted:
        raise ValueError("nothing to record: give at least one behavior or one contacted person")
    bank = validate_bank(bank)
    kb = kb or load_kb()
    flows = flows or load_flows()
    texts, fmt = flows.incident, flows.formats

    events = tuple(Event(b, _findings(texts.behaviors[b].mappings, behaviors, kb)) for b in behaviors)
    contact_findings = _findings(texts.relation_rules, behaviors, kb) if contacted else ()
    urgent = any(texts.behaviors[b].urgent for b in behaviors)

    bank = kb.canonical_bank(bank) if bank else None
    bank_name = bank or fmt.placeholder_bank
    when_text = when or texts.placeholder_when
    today_text = format_date(today, fmt)
    evidence_text = fmt.list_sep.join(texts.evidence_labels[e] for e in (evidence or (NO_EVIDENCE,)))
    relations_text = fmt.list_sep.join(contacted)

    fact_lines = [
        texts.event_line.format(number=i, fact=texts.behaviors[e.behavior].fact) for i, e in enumerate(events, 1)
    ]
    contacted_line = texts.contacted_line.format(relations=relations_text) if contacted else _OMIT

    summary = texts.summary.format(
        today=today_text,
        when=when_text,
        bank=bank_name,
        events="\n".join(_line_with_findings(line, e.findings, flows) for line, e in zip(fact_lines, events)),
        contacted=_line_with_findings(contacted_line, contact_findings, flows) if contacted else _OMIT,
        evidence=evidence_text,
    )

    all_cited = _dedupe([p for e in events for p in _established(e.findings)] + _established(contact_findings))
    complaint_values = dict(
        reminder=texts.truth_reminder,
        today=today_text,
        when=when_text,
        bank=bank_name,
        facts="\n".join(fact_lines),
        contacted=contacted_line,
        assessment=_assessment(all_cited, flows) or texts.assessment_none,
        evidence=evidence_text,
    )
    return Incident(
        events=events,
        contacted=contacted,
        contact_findings=contact_findings,
        evidence=evidence,
        when=when,
        bank=bank,
        today=today,
        urgent=urgent,
        summary=_tidy(summary),
        complaint_to_bank=_tidy(texts.complaint_to_bank.format(**complaint_values)),
        complaint_to_12378=_tidy(texts.complaint_to_12378.format(**complaint_values)),
        next_steps=_next_steps(behaviors, contacted, evidence, urgent, flows),
    )
