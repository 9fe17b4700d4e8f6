"""Shapes bot text for WeChat: safe characters and 2048-byte pieces."""

from __future__ import annotations

import re
from typing import List

# A passive reply's Content (and a customer-service text) may hold 2048 UTF-8 bytes.
MAX_CONTENT_BYTES = 2048

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sanitize(text: str) -> str:
    """Drop characters XML 1.0 forbids and break CDATA terminators.

    wechatpy writes Content inside ``<![CDATA[...]]>``: a ``]]>`` coming from
    the bot (e.g. echoing the user) would end the section and inject XML.
    """
    return _CONTROL_CHARS.sub("", text).replace("]]>", "]] >")


def _byte_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, limit: int) -> str:
    """Longest prefix of ``text`` that fits in ``limit`` bytes (whole characters)."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def split_utf8(text: str, limit: int = MAX_CONTENT_BYTES) -> List[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-8 bytes.

    Pieces end at line breaks where possible; a single longer line is cut
    between characters, never inside one.
    """
    pieces: List[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if _byte_len(current + line) <= limit:
            current += line
            continue
        if current.strip():
            pieces.append(current.rstrip())
        current = ""
        while _byte_len(line) > limit:
            head = _cut(line, limit)
            pieces.append(head)
            line = line[len(head) :]
        current = line
    if current.strip():
        pieces.append(current.rstrip())
    return pieces
