"""Which process imports what: the Rasa server (addons/) never imports the action
server's package (actions/) and vice versa; chinese_text/ imports neither nor Rasa.
The Docker images copy only what these rules allow (tests/test_deploy_files.py)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_roots(package: str) -> Iterator[Tuple[Path, str]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module


FORBIDDEN = {
    "addons": {"actions", "rasa_sdk"},
    "actions": {"addons", "rasa"},
    "chinese_text": {"actions", "addons", "rasa", "rasa_sdk"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_stay_in_their_process(package: str):
    found: Set[str] = set()
    for path, module in imported_roots(package):
        if module.split(".")[0] in FORBIDDEN[package]:
            found.add(f"{path.relative_to(ROOT)}: {module}")
    assert not found, sorted(found)


def test_both_servers_use_the_shared_text_package():
    for package in ("addons", "actions"):
        assert any(m.split(".")[0] == "chinese_text" for _, m in imported_roots(package)), package
