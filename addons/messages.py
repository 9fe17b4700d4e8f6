"""Texts the server shows by itself (addons/messages.yml), in the user's script."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, Iterable

import yaml

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"
SERVICE_UNAVAILABLE = "service_unavailable"
RATE_LIMITED = "rate_limited"
NOT_TEXT = "not_text"
VOICE_NOT_RECOGNISED = "voice_not_recognised"
MENU_LINE = "menu_line"
MESSAGE_KEYS = (SERVICE_UNAVAILABLE, RATE_LIMITED, NOT_TEXT, VOICE_NOT_RECOGNISED, MENU_LINE)


@functools.lru_cache(maxsize=None)
def load_messages() -> Dict[str, str]:
    data = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8")) or {}
    missing = set(MESSAGE_KEYS) - set(data)
    if missing:
        raise ValueError(f"{MESSAGES_FILE} lacks {sorted(missing)}")
    return {str(key): str(value) for key, value in data.items()}


def message(key: str, user_texts_newest_first: Iterable[str] = ()) -> str:
    """messages.yml[key], in Traditional when the user's newest Chinese text is Traditional."""
    from chinese_text.script import prefers_traditional

    return message_in_script(key, prefers_traditional(user_texts_newest_first))


def message_in_script(key: str, traditional: bool) -> str:
    """messages.yml[key], converted to Traditional when `traditional`."""
    from chinese_text.script import to_traditional

    text = load_messages()[key]
    return to_traditional(text) if traditional else text
