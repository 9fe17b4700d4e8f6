"""Simplified/Traditional Chinese detection and conversion (OpenCC)."""

from __future__ import annotations

import functools
from typing import Iterable, Optional

from opencc import OpenCC


@functools.lru_cache(maxsize=None)
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


# Parsing one message converts the same text several times (normaliser, script
# detection); OpenCC's pure-Python converter is the slow part, so remember a few.
@functools.lru_cache(maxsize=512)
def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text) if text else text


@functools.lru_cache(maxsize=512)
def to_traditional(text: str) -> str:
    return _converter("s2tw").convert(text) if text else text


TRADITIONAL, SIMPLIFIED = "traditional", "simplified"


def script_of(text: str) -> Optional[str]:
    """traditional / simplified, or None for text with no script-distinctive character (好, 1, 38000)."""
    if not text:
        return None
    simplified = to_simplified(text)
    traditional = to_traditional(text)
    trad_only = sum(1 for a, b in zip(text, simplified) if a != b)
    simp_only = sum(1 for a, b in zip(text, traditional) if a != b)
    if trad_only == simp_only:
        return None
    return TRADITIONAL if trad_only > simp_only else SIMPLIFIED


def is_traditional(text: str) -> bool:
    """True when the text has more Traditional-only than Simplified-only characters."""
    return script_of(text) == TRADITIONAL


def prefers_traditional(texts_newest_first: Iterable[str]) -> bool:
    """Script of the newest user text that has one; texts without one (好, 1, buttons) keep the earlier script."""
    for text in texts_newest_first:
        script = script_of(text)
        if script is not None:
            return script == TRADITIONAL
    return False
