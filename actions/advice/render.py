"""Turn an Advice into phone-sized chat messages (text + quick-reply buttons)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from actions.advice.engine import OUTSIDE_VARIANT, Advice
from actions.advice.kb import HelpChannel, KnowledgeBase, Provision, load_kb
from chinese_text.script import to_traditional

MAX_MESSAGE_CHARS = 600
MAX_ALSO_CITED = 4  # further citations in an answer; the basis button lists them all
LEGAL_BASIS_PAYLOAD = "/ask_legal_basis"


STRUCTURED_VERSION = 1


@dataclass
class OutMessage:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    # The same content, structured for the web widget (channels that only show text ignore it).
    structured: Optional[Dict[str, Any]] = None


def _label(kb: KnowledgeBase, key: str) -> str:
    return kb.labels[key]


def _soft_note(kb: KnowledgeBase, provision: Provision) -> str:
    """Self-regulation and GB/T standards must never pass for law."""
    return _label(kb, "soft_law_note") if provision.soft_law else ""


def _citation(kb: KnowledgeBase, provision: Provision) -> str:
    return provision.citation + _soft_note(kb, provision)


def _quote_line(kb: KnowledgeBase, provision: Provision) -> str:
    """《X》第N条：“quote”; a paraphrase is marked as such and never put in quotation marks."""
    if provision.paraphrased:
        return f"{provision.citation}{_label(kb, 'paraphrase_mark')}：{provision.quote}{_soft_note(kb, provision)}"
    return f"{provision.citation}：“{provision.quote}”{_soft_note(kb, provision)}"


def basis_items(kb: KnowledgeBase, provisions: Sequence[Provision]) -> List[Dict[str, Any]]:
    """The legal basis as structured items (citation, quote, paraphrase, soft_law)."""
    return [
        {
            "citation": provision.citation,
            "quote": provision.quote,
            "paraphrase": provision.paraphrased,
            "soft_law": provision.soft_law,
        }
        for provision in provisions
    ]


def help_items(channels: Sequence[HelpChannel]) -> List[Dict[str, Any]]:
    return [{"name": h.name, "contact": h.contact, "tel": h.tel} for h in channels]


def _grouped_citations(kb: KnowledgeBase, provisions: Sequence[Provision]) -> str:
    """《解释》第九条、第六条 rather than repeating the instrument for each article."""
    parts: List[str] = []
    previous: Optional[Provision] = None
    for provision in provisions:
        if (
            previous is not None
            and previous.short_name == provision.short_name
            and previous.article
            and provision.article
        ):
            parts.append(provision.article + _soft_note(kb, provision))
        else:
            parts.append(_citation(kb, provision))
        previous = provision
    return "、".join(parts)


def render_advice(
    advice: Advice,
    traditional: bool = False,
    with_disclaimer: bool = False,
    kb: Optional[KnowledgeBase] = None,
    also: Sequence[str] = (),
) -> List[OutMessage]:
    """One message: answer, steps, main legal basis with a short quote, where to get help.

    `also`: other advisory intents the message raised ("你还提到…"), each a line and a button.
    """
    kb = kb or load_kb()
    parts = [advice.answer, *advice.notes]
    steps = "\n".join(f"{i}. {s}" for i, s in enumerate(advice.steps, 1))
    parts.append(f"{_label(kb, 'steps_heading')}\n{steps}")
    if advice.provisions:
        lead, rest = advice.provisions[0], advice.provisions[1:]
        basis = f"{_label(kb, 'basis_heading')}{_quote_line(kb, lead)}"
        if rest:
            cited = _grouped_citations(kb, rest[:MAX_ALSO_CITED])
            basis += _label(kb, "basis_also") + cited + (_label(kb, "basis_etc") if len(rest) > MAX_ALSO_CITED else "")
        parts.append(basis)
    if advice.help:
        parts.append(_label(kb, "help_heading") + "；".join(_help_text(h) for h in advice.help))
    also_titles = [kb.guidance[intent].title or intent for intent in also]
    parts.extend(_label(kb, "also_mentioned").format(title=title) for title in also_titles)
    disclaimer = _label(kb, "disclaimer_outside" if OUTSIDE_VARIANT in advice.variants else "disclaimer")
    if with_disclaimer:
        parts.append(disclaimer)
    buttons = []
    if len(advice.provisions) > 1:
        buttons.append({"title": _label(kb, "basis_button"), "payload": LEGAL_BASIS_PAYLOAD})
    if advice.offer:
        offer = kb.labels.get(f"offer_{advice.offer}")
        if offer:
            buttons.append({"title": offer, "payload": f"/{advice.offer}"})
    also_buttons = [
        {"title": _label(kb, "also_button").format(title=title), "payload": f"/{intent}"}
        for intent, title in zip(also, also_titles)
    ]
    buttons.extend(also_buttons)
    structured = {
        "v": STRUCTURED_VERSION,
        "kind": "advice",
        "answer": advice.answer,
        "notes": list(advice.notes),
        "steps": list(advice.steps),
        "basis": basis_items(kb, advice.provisions),
        "help": help_items(advice.help),
        "disclaimer": disclaimer if with_disclaimer else None,
    }
    return [_localise(OutMessage("\n\n".join(parts), buttons, structured), traditional)]


def _help_text(channel: HelpChannel) -> str:
    return f"{channel.name} {channel.contact}" if channel.contact else channel.name


def document_message(title: str, body: str, traditional: bool = False) -> OutMessage:
    """A generated document (申请书, record, complaint, summary): plain text plus a copy/download payload."""
    structured = {
        "v": STRUCTURED_VERSION,
        "kind": "document",
        "document": {"title": title, "body": body, "filename": f"{title}.txt"},
    }
    return _localise(OutMessage(body, [], structured), traditional)


def render_legal_basis(
    provisions: Sequence[Provision], traditional: bool = False, kb: Optional[KnowledgeBase] = None
) -> List[OutMessage]:
    """Every provision with its quote, packed into as few phone-sized messages as fit."""
    kb = kb or load_kb()
    messages: List[str] = []
    current = _label(kb, "basis_full_heading")
    for provision in provisions:
        line = f"· {_quote_line(kb, provision)}"
        if len(current) + len(line) + 1 > MAX_MESSAGE_CHARS:
            messages.append(current)
            current = line
        else:
            current = f"{current}\n{line}"
    messages.append(current)
    return [_localise(OutMessage(text), traditional) for text in messages]


def _traditional_structured(value: Any) -> Any:
    """Convert every string of a structured payload except button payloads."""
    if isinstance(value, str):
        return to_traditional(value)
    if isinstance(value, list):
        return [_traditional_structured(v) for v in value]
    if isinstance(value, dict):
        return {
            k: (v if k in ("payload", "tel", "kind", "v") else _traditional_structured(v)) for k, v in value.items()
        }
    return value


def _localise(message: OutMessage, traditional: bool) -> OutMessage:
    if not traditional:
        return OutMessage(keep_paragraphs(message.text), message.buttons, message.structured)
    return OutMessage(
        keep_paragraphs(to_traditional(message.text)),
        [{**b, "title": to_traditional(b["title"])} for b in message.buttons],
        _traditional_structured(message.structured),
    )


PARAGRAPH_BREAK = "\n\u3000\n"  # a visually blank line channels do not split on


def keep_paragraphs(text: str) -> str:
    """Rasa's text channels cut a message at every blank line; keep one message whole."""
    while "\n\n" in text:
        text = text.replace("\n\n", PARAGRAPH_BREAK)
    return text


def split_for_phone(text: str, limit: int = MAX_MESSAGE_CHARS) -> List[str]:
    """Split a long text at line breaks into chunks of at most `limit` characters."""
    chunks: List[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single over-long line: hard cut
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]
