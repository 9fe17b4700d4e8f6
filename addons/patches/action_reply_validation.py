"""Validate action-server replies with a validator built once.

Rasa 3.6 calls `jsonschema.validate(reply, schema)` for every custom action;
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
    return _original(self, result)  # raises with Rasa's own message


def install() -> bool:
    """Idempotent; True if this call installed it."""
    global _original
    if _original is not None:
        return False
    _original = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    global _original
    if _original is not None:
        RemoteAction._validate_action_result = _original  # type: ignore[method-assign]
        _original = None
