"""Texts the server shows by itself (addons/messages.yml), in the user's script."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, Iterable

import yaml

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"
SERVICE_UNAVAILABLE = "service_unavailable"
RATE_LIMITED = "rate_limited"


@functools.lru_cache(maxsize=None)
def load_messages() -> Dict[str, str]:
    data = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8")) or {}
    missing = {SERVICE_UNAVAILABLE, RATE_LIMITED} - set(data)
    if missing:
        raise ValueError(f"{MESSAGES_FILE} lacks {sorted(missing)}")
    return {str(key): str(value) for key, value in data.items()}


def message(key: str, user_texts_newest_first: Iterable[str] = ()) -> str:
    """messages.yml[key], in Traditional when the user's newest Chinese text is Traditional."""
    from chinese_text.script import prefers_traditional, to_traditional

    text = load_messages()[key]
    return to_traditional(text) if prefers_traditional(user_texts_newest_first) else text
