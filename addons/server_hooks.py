"""Every change this project makes to Rasa's own classes (and to logging), installed in one place.

Each entry point calls `install_all()` at start-up, before Rasa loads the agent:
scripts/run_server.py (`make run`, the Docker image), `python -m addons.rasa_cli ...`
(`rasa` with the hooks: `make test-stories`, `rasa shell`), the terminal chat
(`make chat`) and `make purge`. Nothing installs them from a constructor, so swapping
the NLG or the tracker store in endpoints.yml keeps them; the project's NLG and
tracker store refuse to start without them (`require_installed`), so a plain
`rasa run` fails loudly instead of serving without log redaction.

Every patch is written against `RASA_VERSION`; `tests/test_server_hooks.py` fails if one is
missing after `install_all()`, or when Rasa is upgraded (review each target, then the pin).
A patch is a module `addons/patches/<name>.py` with `install() -> bool` (True if that call
installed it), `uninstall()` and `installed()`; adding one is a line in `PATCHES`.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Collection, List, Set, Tuple

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"  # the version every target below was read in and tested against


@dataclass(frozen=True)
class Patch:
    name: str  # its module: addons/patches/<name>.py
    target: str  # what it replaces
    purpose: str

    def module(self) -> ModuleType:
        return importlib.import_module(f"addons.patches.{self.name}")


PATCHES: Tuple[Patch, ...] = (
    Patch(
        "action_fallback",
        "rasa.core.actions.action.RemoteAction.run, rasa.core.actions.forms.FormAction.run",
        "the service-unavailable text instead of silence when the action server is down",
    ),
    Patch(
        "action_reply_validation",
        "rasa.core.actions.action.RemoteAction._validate_action_result",
        "action-server replies validated by a validator built once (a profiled hot spot)",
    ),
    Patch(
        "offer_choice",
        "rasa.core.processor.MessageProcessor.parse_message",
        "a typed option number or a bare yes is parsed as the payload of the button it chooses",
    ),
    Patch(
        "log_redaction",
        "logging.setLogRecordFactory (every record of Rasa, Sanic and structlog)",
        "identifiers masked in every log record",
    ),
)
NAMES = tuple(patch.name for patch in PATCHES)

_left_out: Set[str] = set()  # install_all(leave_out=...): not missing, on purpose (benchmarks)


class HooksNotInstalled(RuntimeError):
    """A component that depends on the hooks was built in a process that did not install them."""


def _patch(name: str) -> Patch:
    for patch in PATCHES:
        if patch.name == name:
            return patch
    raise KeyError(f"unknown Rasa patch {name!r}; known: {', '.join(NAMES)}")


def install_all(leave_out: Collection[str] = ()) -> List[str]:
    """Install every patch except `leave_out` (idempotent); the names this call installed.

    `leave_out` (benchmarks: what a patch buys) is uninstalled and not reported as missing.
    """
    for name in leave_out:
        _patch(name)  # a typo must not silently install everything
    import rasa

    if rasa.__version__ != RASA_VERSION:
        logger.warning(
            f"Rasa {rasa.__version__} is installed; the patches in addons/patches were written for "
            f"Rasa {RASA_VERSION}: check each target listed in addons/server_hooks.py."
        )
    for name in leave_out:
        _patch(name).module().uninstall()
    _left_out.clear()
    _left_out.update(leave_out)
    newly = [patch.name for patch in PATCHES if patch.name not in _left_out and patch.module().install()]
    if _left_out:
        logger.warning(f"Rasa patches left out on purpose: {', '.join(sorted(_left_out))}.")
    return newly


def installed() -> List[str]:
    return [patch.name for patch in PATCHES if patch.module().installed()]


def missing() -> List[str]:
    """Patches neither installed nor left out on purpose."""
    done = set(installed())
    return [name for name in NAMES if name not in done and name not in _left_out]


def uninstall(name: str) -> None:
    """Undo one patch (tests); it is then missing."""
    _patch(name).module().uninstall()
    _left_out.discard(name)


def uninstall_all() -> None:
    """Undo every patch (tests)."""
    for patch in reversed(PATCHES):
        uninstall(patch.name)


def require_installed(component: str) -> None:
    """Raise HooksNotInstalled unless every patch is in; call it where Rasa builds `component`.

    Rasa builds the NLG and the tracker store when it loads the agent, after it has
    configured logging, so this is also where a DEBUG log level is pointed out.
    """
    absent = missing()
    if absent:
        raise HooksNotInstalled(
            f"{component} needs the project's patches to Rasa; not installed: {', '.join(absent)}. "
            "Start Rasa through scripts/run_server.py or `python -m addons.rasa_cli ...` "
            "(or call addons.server_hooks.install_all() first), not with the plain `rasa` command."
        )
    from addons.patches.log_redaction import warn_if_debug

    warn_if_debug()
