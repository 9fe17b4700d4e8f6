"""Texts the actions send (form questions, explanations, flow templates), from dialogue.yml."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Tuple

import yaml

from actions.advice.kb import KNOWLEDGE_DIR, KnowledgeBaseError


@dataclass(frozen=True)
class Question:
    text: str
    buttons: Tuple[Mapping[str, str], ...]


@dataclass(frozen=True)
class Dialogue:
    questions: Dict[str, Question]
    explanations: Dict[str, str]
    messages: Dict[str, str]
    buttons: Dict[str, str]
    documents: Dict[str, str]  # document kind -> its title (also the download file name)
    confirm_slots: Dict[str, str]  # slot -> "欠款约{value}"
    confirm_values: Dict[str, Dict[str, str]]  # slot -> stored value -> phrase
    flow_names: Dict[str, str]  # form -> how the welcome-back line names it
    confirm_joiner: str = "；"


def _check_buttons(buttons: Any, where: str) -> Tuple[Mapping[str, str], ...]:
    if not isinstance(buttons, list):
        raise KnowledgeBaseError(f"dialogue.yml:{where}: buttons must be a list")
    for button in buttons:
        if not (isinstance(button, dict) and button.get("title") and str(button.get("payload", "")).startswith("/")):
            raise KnowledgeBaseError(f"dialogue.yml:{where}: each button needs a title and a /payload")
    return tuple(buttons)


def build_dialogue(raw: Mapping[str, Any]) -> Dialogue:
    for key in ("questions", "explanations", "messages", "buttons", "documents"):
        if not isinstance(raw.get(key), dict) or not raw[key]:
            raise KnowledgeBaseError(f"dialogue.yml: '{key}' must be a non-empty mapping")
    questions = {}
    for slot, entry in raw["questions"].items():
        if not isinstance(entry, dict) or not entry.get("text"):
            raise KnowledgeBaseError(f"dialogue.yml:questions:{slot}: missing text")
        questions[slot] = Question(entry["text"], _check_buttons(entry.get("buttons", []), slot))
    return Dialogue(
        questions=questions,
        explanations={k: str(v) for k, v in raw["explanations"].items()},
        messages={k: str(v) for k, v in raw["messages"].items()},
        buttons={k: str(v) for k, v in raw["buttons"].items()},
        documents={k: str(v) for k, v in raw["documents"].items()},
        confirm_slots={k: str(v) for k, v in (raw.get("confirm") or {}).get("slots", {}).items()},
        confirm_values={
            slot: {str(value): str(text) for value, text in values.items()}
            for slot, values in (raw.get("confirm") or {}).get("values", {}).items()
        },
        flow_names={k: str(v) for k, v in (raw.get("flow_names") or {}).items()},
        confirm_joiner=str((raw.get("confirm") or {}).get("joiner", "；")),
    )


@functools.lru_cache(maxsize=1)
def load_dialogue() -> Dialogue:
    with (KNOWLEDGE_DIR / "dialogue.yml").open(encoding="utf-8") as handle:
        return build_dialogue(yaml.safe_load(handle) or {})
