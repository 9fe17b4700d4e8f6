"""Texts the actions send (form questions, explanations, flow templates), from dialogue.yml."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Tuple

import yaml

from actions.guidance.kb import KNOWLEDGE_DIR, KnowledgeBaseError


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


def _check_buttons(buttons: Any, where: str) -> Tuple[Mapping[str, str], ...]:
    if not isinstance(buttons, list):
        raise KnowledgeBaseError(f"dialogue.yml:{where}: buttons must be a list")
    for button in buttons:
        if not (isinstance(button, dict) and button.get("title") and str(button.get("payload", "")).startswith("/")):
            raise KnowledgeBaseError(f"dialogue.yml:{where}: each button needs a title and a /payload")
    return tuple(buttons)


def build_dialogue(raw: Mapping[str, Any]) -> Dialogue:
    for key in ("questions", "explanations", "messages", "buttons"):
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
    )


@functools.lru_cache(maxsize=1)
def load_dialogue() -> Dialogue:
    with (KNOWLEDGE_DIR / "dialogue.yml").open(encoding="utf-8") as handle:
        return build_dialogue(yaml.safe_load(handle) or {})


def question_slots() -> List[str]:
    return list(load_dialogue().questions)
