"""The case summary: one page that hands the case over to 12348, legal aid or a lawyer.

It is built only from structured inputs (the Facts and the flows' results that the
actions keep in slots), never from the conversation's free text, so it can hold no
ID, phone or card number. Every citation in it comes from provisions.yml through the
answers and flows that produced it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from actions.advice.engine import wan_text
from actions.advice.facts import Facts
from actions.advice.kb import KNOWLEDGE_DIR, KnowledgeBaseError
from actions.flows.flows_kb import Flows, load_flows
from actions.flows.planner import overdue_text

SUMMARY_FILE = "summary.yml"
CASE_SLOTS = ("case_advice", "case_verdict", "case_plan", "case_incidents")  # where the flows keep their records
DANGER_LEVELS = ("unlawful_conduct",)
SCAM_LEVELS = ("likely_scam",)


@dataclass(frozen=True)
class CaseRecords:
    """What the flows and answers produced (the CASE_SLOTS)."""

    advice: Tuple[Mapping[str, Any], ...] = ()
    verdict: Optional[Mapping[str, Any]] = None
    plan: Optional[Mapping[str, Any]] = None
    incidents: Tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> "CaseRecords":
        def records(value: Any) -> Tuple[Mapping[str, Any], ...]:
            return tuple(v for v in value or () if isinstance(v, dict)) if isinstance(value, list) else ()

        verdict = slots.get("case_verdict")
        plan = slots.get("case_plan")
        return cls(
            advice=records(slots.get("case_advice")),
            verdict=verdict if isinstance(verdict, dict) else None,
            plan=plan if isinstance(plan, dict) else None,
            incidents=records(slots.get("case_incidents")),
        )


@functools.lru_cache(maxsize=1)
def load_summary_texts() -> Dict[str, Any]:
    with (KNOWLEDGE_DIR / SUMMARY_FILE).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    for key in ("title", "header", "sections", "none", "facts", "next_steps"):
        if key not in (data or {}):
            raise KnowledgeBaseError(f"{SUMMARY_FILE}: missing {key}")
    return data


def _date(value: Any) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return ""
    return f"{day.year}年{day.month}月{day.day}日"


def _fact_lines(facts: Facts, texts: Mapping[str, Any], flows: Flows) -> List[str]:
    t = texts["facts"]
    sep = flows.formats.list_sep
    lines: List[str] = []
    lenders = facts.banks or ((facts.bank,) if facts.bank else ())
    if lenders:
        lines.append(t["lenders"].format(value=sep.join(lenders)))
    if facts.amount is not None:
        line = t["amount"].format(value=wan_text(facts.amount))
        if facts.amount_parts:
            line += t["amount_parts"].format(value=sep.join(wan_text(p) for p in facts.amount_parts))
        lines.append(line)
    if facts.loan_type:
        lines.append(t["loan_type"].format(value=texts["loan_types"][facts.loan_type]))
    if facts.overdue_duration:
        lines.append(t["overdue"].format(value=overdue_text(facts.overdue_duration, flows)))
    if facts.monthly_income is not None:
        lines.append(t["income"].format(value=wan_text(facts.monthly_income)))
    if facts.monthly_expense is not None:
        lines.append(t["expense"].format(value=wan_text(facts.monthly_expense)))
    if facts.relation:
        lines.append(t["relations"].format(value=sep.join(facts.relation)))
    if facts.behavior:
        described = [flows.incident.behaviors[b].fact for b in facts.behavior if b in flows.incident.behaviors]
        lines.append(t["behaviors"].format(value=sep.join(described)))
    if facts.court_stage:
        lines.append(t["court_stage"].format(value=texts["court_stages"][facts.court_stage]))
    if facts.outside_mainland:
        lines.append(t["jurisdiction"].format(value=texts["jurisdictions"][facts.jurisdiction]))
    return lines


def _incident_lines(records: CaseRecords, texts: Mapping[str, Any], flows: Flows) -> List[str]:
    sep = flows.formats.list_sep
    lines = []
    for record in records.incidents:
        behaviors = [
            flows.incident.behaviors[b].fact for b in record.get("behaviors") or [] if b in flows.incident.behaviors
        ]
        contacted = [r for r in record.get("contacted") or [] if r != "none"]
        evidence = [flows.incident.evidence_labels.get(e, e) for e in record.get("evidence") or []]
        lines.append(
            texts["incident_line"].format(
                date=_date(record.get("date")),
                when=record.get("when") or flows.incident.placeholder_when,
                events=sep.join(behaviors) or texts["none"],
                contacted=texts["incident_contacted"].format(value=sep.join(contacted)) if contacted else "",
                evidence=sep.join(evidence) or texts["none"],
            )
        )
    return lines


def _numbered(lines: Sequence[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _next_steps(facts: Facts, records: CaseRecords, texts: Mapping[str, Any]) -> List[str]:
    steps = texts["next_steps"]
    out = list(steps["always"])
    level = (records.verdict or {}).get("level")
    if records.incidents:
        out += steps["incidents"]
    if level in DANGER_LEVELS or any(r.get("behaviors") for r in records.incidents):
        out += steps["danger"]
    if level in SCAM_LEVELS:
        out += steps["scam"]
    if records.plan:
        out += steps["plan"]
    if facts.court_stage:
        out += steps["court"]
    return list(dict.fromkeys(out))


def case_summary(facts: Facts, records: CaseRecords, today: date, flows: Optional[Flows] = None) -> str:
    """The summary text (Simplified; the caller converts to Traditional when the user writes it)."""
    flows = flows or load_flows()
    texts = load_summary_texts()
    heads = texts["sections"]
    none = texts["none"]
    verdict = records.verdict
    plan = records.plan
    blocks = [
        texts["header"].format(today=_date(today.isoformat())),
        heads["facts"] + "\n" + (_numbered(_fact_lines(facts, texts, flows)) or none),
        heads["incidents"] + "\n" + (_numbered(_incident_lines(records, texts, flows)) or none),
        heads["verdict"]
        + "\n"
        + (
            texts["verdict_line"].format(date=_date(verdict.get("date")), label=verdict.get("label", ""))
            + _citations(verdict)
            if verdict
            else none
        ),
        heads["plan"]
        + "\n"
        + (
            texts["plan_line"].format(date=_date(plan.get("date")), summary=plan.get("summary", "")) + _citations(plan)
            if plan
            else none
        ),
        heads["advice"]
        + "\n"
        + (
            _numbered(
                [
                    texts["advice_line"].format(title=a.get("title", ""), citations="、".join(a.get("citations") or []))
                    for a in records.advice
                ]
            )
            or none
        ),
        heads["next"] + "\n" + _numbered(_next_steps(facts, records, texts)),
    ]
    return "\n\n".join(blocks)


def _citations(record: Mapping[str, Any]) -> str:
    cited = record.get("citations") or []
    return f"（{'、'.join(cited)}）" if cited else ""
