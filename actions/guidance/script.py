"""Simplified/Traditional Chinese detection and conversion (OpenCC)."""
from __future__ import annotations

import functools
import re
from typing import Iterable

from opencc import OpenCC


@functools.lru_cache(maxsize=None)
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text) if text else text


def to_traditional(text: str) -> str:
    return _converter("s2tw").convert(text) if text else text


def is_traditional(text: str) -> bool:
    """True when the text has more Traditional-only than Simplified-only characters."""
    if not text:
        return False
    simplified = to_simplified(text)
    traditional = to_traditional(text)
    trad_only = sum(1 for a, b in zip(text, simplified) if a != b)
    simp_only = sum(1 for a, b in zip(text, traditional) if a != b)
    return trad_only > simp_only


_HAN = re.compile(r"[\u3400-\u9fff]")


def prefers_traditional(texts_newest_first: Iterable[str]) -> bool:
    """Script of the newest user text that has Chinese characters (buttons have none)."""
    for text in texts_newest_first:
        if text and _HAN.search(text):
            return is_traditional(text)
    return False
