"""Validate action-server replies with a validator built once.

Target: Rasa 3.6.21 `rasa.core.actions.action.RemoteAction._validate_action_result(self, result)`.
Rasa calls `jsonschema.validate(reply, schema)` for every custom action;
that re-checks the constant schema against the meta-schema each time and was
38 % of a turn's busy time in the profile (docs/benchmarks.md, 3.3). The reply
is validated exactly as before; an invalid one still raises Rasa's error.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Optional

from rasa.core.actions.action import RemoteAction

_original: Optional[Any] = None


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = RemoteAction.action_response_format_spec()
    return jsonschema.validators.validator_for(schema)(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    if _validator().is_valid(result):
        return True
    assert _original is not None  # set while this is installed
    return _original(self, result)  # raises with Rasa's own message


def installed() -> bool:
    return _original is not None and RemoteAction.__dict__.get("_validate_action_result") is _validate_action_result


def install() -> bool:
    """Idempotent; True if this call installed it."""
    global _original
    if installed():
        return False
    _original = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    """Put Rasa's own method back (tests, benchmarks)."""
    global _original
    if _original is not None:
        RemoteAction._validate_action_result = _original  # type: ignore[method-assign]
        _original = None
