"""Reading the YAML lexicons under data/lexicons/ (safety net, fake authorities, typos).

Relative paths are resolved from the project root (not the working directory),
so a server started from another folder still finds them. The fingerprint lets
a component's cache key change whenever a lexicon file is edited.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Pattern

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class LexiconError(ValueError):
    """A lexicon file is missing or malformed."""


def resolve(path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def load_yaml(path: str) -> Dict[str, Any]:
    """The lexicon as a mapping; a missing or malformed file is an error, never an empty lexicon."""
    file = resolve(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise LexiconError(f"cannot read lexicon {file}: {error}") from error
    if not isinstance(data, dict):
        raise LexiconError(f"lexicon {file} must be a mapping at the top level")
    return data


def fingerprint(paths: Iterable[str]) -> str:
    """Hash of the files' names and contents (a missing file hashes as missing)."""
    digest = hashlib.sha256()
    for path in paths:
        file = resolve(path)
        digest.update(str(path).encode("utf-8") + b"\0")
        digest.update(file.read_bytes() if file.is_file() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def compile_any(patterns: List[str], where: str) -> Pattern[str]:
    """One regex matching any of the patterns (case-insensitive)."""
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise LexiconError(f"{where}: expected a non-empty list of non-empty strings")
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error as error:
        raise LexiconError(f"{where}: invalid regex ({error})") from error
