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
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert "make test" in commands
    assert "make test" in README


def test_make_knows_every_readme_target():
    for target in set(re.findall(r"`make ([a-z][\w-]*)", README)):
        result = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, (target, result.stderr)


def _architecture_section() -> str:
    match = re.search(r"^## Architecture\n(.*?)^## ", README, flags=re.M | re.S)
    assert match, "README has no Architecture section"
    return match.group(1)


def _tracked_folders(depth: int) -> set:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {"/".join(f.split("/")[:depth]) + "/" for f in files.split("\0") if f.count("/") >= depth}


def test_architecture_names_every_top_level_folder_and_its_process():
    section = _architecture_section()
    rows = re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", section, flags=re.M)
    named = {path for cell, _ in rows for path in re.findall(r"`([\w.-]+/)`", cell)}
    folders = {f for f in _tracked_folders(1) if not f.startswith(".")}
    assert folders <= named, folders - named
    assert all(process.strip() for _, process in rows)


def test_architecture_names_every_package_of_both_servers():
    section = _architecture_section()
    packages = {f for f in _tracked_folders(2) if f.split("/")[0] in {"addons", "actions"} and "__pycache__" not in f}
    assert packages, "no sub-packages found"
    assert all(f"`{p}" in section for p in packages), [p for p in packages if f"`{p}" not in section]
