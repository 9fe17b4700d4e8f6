"""Which buttons are offers (a topic or a flow to start) rather than answers to a question.

The same rule as addons/patches/offer_choice.py on the Rasa side (a "好" takes the only offer).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Sequence

NOT_OFFERS = re.compile(r"^/(affirm|deny|inform|cancel|ask_legal_basis)\b")


def offers(buttons: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [dict(b) for b in buttons if not NOT_OFFERS.match(str(b.get("payload") or ""))]
