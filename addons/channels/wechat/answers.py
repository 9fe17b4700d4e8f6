"""A bot turn's collected messages rendered as WeChat text pieces."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from addons.channels.wechat.menus import render_menu
from addons.channels.wechat.text_format import sanitize, split_utf8

logger = logging.getLogger(__name__)

# One passive reply plus a few customer-service messages per user message.
MAX_PIECES = 5


@dataclass
class BotAnswer:
    """A bot turn rendered for WeChat: text pieces of at most 2048 bytes each."""

    pieces: List[str] = field(default_factory=list)


def render_answer(messages: List[Dict[str, Any]], traditional: bool = False) -> Tuple[BotAnswer, List[str]]:
    """The answer for all collected messages, and the payloads of its numbered menu.

    Texts are joined by a blank line; buttons become ``回复 N …`` lines numbered
    across the whole turn (in Traditional when ``traditional``); images and
    attachments are shown as their URL.
    """
    blocks: List[str] = []
    payloads: List[str] = []
    for message in messages:
        lines = [message["text"]] if message.get("text") else []
        for key in ("image", "attachment"):
            if message.get(key):
                lines.append(str(message[key]))
        if message.get("buttons"):
            menu, new_payloads = render_menu(
                message["buttons"], first_number=len(payloads) + 1, traditional=traditional
            )
            lines.extend(menu)
            payloads.extend(new_payloads)
        if lines:
            blocks.append("\n".join(lines))
    pieces = split_utf8(sanitize("\n\n".join(blocks)))
    if len(pieces) > MAX_PIECES:
        logger.warning("WeChat answer of %d pieces cut to %d", len(pieces), MAX_PIECES)
        pieces = pieces[:MAX_PIECES]
    return BotAnswer(pieces), payloads
