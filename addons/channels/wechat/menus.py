"""Buttons as a numbered text menu, and a reply of just the number mapped back.

WeChat passive replies cannot carry buttons, so ``回复 1 …`` lines stand in
for them; the last menu shown to each sender is remembered for a while.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Optional, Sequence, Tuple

from addons.channels.wechat.ttl_cache import TTLCache
from addons.messages import MENU_LINE, message_in_script

MENU_TTL_SECONDS = 30 * 60

# "2", "２", "2.", "2、", "2)", "（2）" — after NFKC full-width forms are ASCII.
_CHOICE = re.compile(r"^\(?\s*(\d{1,2})\s*[.。、)]?$")


def render_menu(
    buttons: Sequence[Dict[str, Any]], first_number: int = 1, traditional: bool = False
) -> Tuple[List[str], List[str]]:
    """Menu lines (addons/messages.yml menu_line) and the payload of each line, numbered from ``first_number``."""
    template = message_in_script(MENU_LINE, traditional)
    lines: List[str] = []
    payloads: List[str] = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = str(button.get("payload") or title).strip()
        if not payload:
            continue
        lines.append(template.format(number=first_number + len(payloads), title=title))
        payloads.append(payload)
    return lines, payloads


def parse_choice(text: str) -> Optional[int]:
    """The menu number a reply consists of, or None when it is anything else."""
    normalized = unicodedata.normalize("NFKC", text or "").strip()
    match = _CHOICE.match(normalized)
    return int(match.group(1)) if match else None


class MenuMemory:
    """Last menu shown to each sender, forgotten after ``ttl`` seconds."""

    def __init__(self, ttl: float = MENU_TTL_SECONDS, max_items: int = 50_000) -> None:
        self._menus = TTLCache(ttl=ttl, max_items=max_items)

    def remember(self, sender_id: str, payloads: List[str]) -> None:
        """Replace the sender's menu; an answer without buttons clears it."""
        if payloads:
            self._menus.set(sender_id, list(payloads))
        else:
            self._menus.pop(sender_id)

    def resolve(self, sender_id: str, text: str) -> str:
        """The payload when ``text`` picks an entry of the sender's menu, else ``text``."""
        number = parse_choice(text)
        menu = self._menus.get(sender_id) if number is not None else None
        if menu and 1 <= number <= len(menu):
            return menu[number - 1]
        return text
