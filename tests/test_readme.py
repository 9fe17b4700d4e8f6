"""The README names only commands and paths that exist."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def _make_targets() -> set:
    return set(re.findall(r"^([a-z][\w-]*):", MAKEFILE, flags=re.M))


def test_every_make_target_named_in_readme_exists():
    named = set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert named, "README names no make target"
    assert named <= _make_targets(), named - _make_targets()


def test_conventional_targets_exist():
    assert {"install", "train", "chat", "run", "test", "bench"} <= _make_targets()


def _generated(path: str) -> bool:
    """Made by `make` at run time (venv, models, database): must be gitignored instead."""
    result = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
    return result.returncode == 0


def test_every_path_named_in_readme_exists():
    candidates = set(re.findall(r"`((?:\.?[\w-]+/)+[\w.-]*|[\w-]+\.(?:yml|yaml|md|txt|py|json))`", README))
    missing = [p for p in candidates if not (ROOT / p).exists() and not _generated(p)]
    assert candidates and not missing, missing


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [l.strip() for l in ci.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert "make test" in commands
    assert "make test" in README


def test_make_knows_every_readme_target():
    for target in set(re.findall(r"`make ([a-z][\w-]*)", README)):
        result = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, (target, result.stderr)
