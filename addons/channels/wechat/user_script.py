"""The script (Simplified or Traditional) each WeChat user last wrote in.

A picture or an unrecognised voice message has no text to read the script
from; the channel's own reply to it follows the user's earlier texts.
"""

from __future__ import annotations

from addons.channels.wechat.ttl_cache import TTLCache
from chinese_text.script import TRADITIONAL, script_of


class ScriptMemory:
    """Per sender: did the newest text that shows a script use Traditional? Forgotten after ``ttl`` s."""

    def __init__(self, ttl: float, max_items: int = 100_000) -> None:
        self._traditional = TTLCache(ttl=ttl, max_items=max_items)

    def note(self, sender_id: str, text: str) -> None:
        """Remember the script of ``text``; a text without one (好, 1, a payload) changes nothing."""
        script = script_of(text)
        if script is not None:
            self._traditional.set(sender_id, script == TRADITIONAL)

    def traditional(self, sender_id: str) -> bool:
        return bool(self._traditional.get(sender_id, False))
