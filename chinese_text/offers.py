"""Which buttons are offers (a topic or a flow to start) rather than answers to a question.

The one rule for both servers: addons/patches/offer_choice.py (a "好" takes the only offer) and
actions/case_actions.py (with several offers, the user is asked which).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Sequence

NOT_OFFERS = re.compile(r"^/(affirm|deny|inform|cancel|ask_legal_basis)\b")


def offers(buttons: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [dict(b) for b in buttons if not NOT_OFFERS.match(str(b.get("payload") or ""))]
