"""Normalising Chinese user text (no Rasa import): one canonical form for every reader.

Traditional -> Simplified (OpenCC), homophone and look-alike typos of domain words
fixed (data/lexicons/typos.yml), full-width -> half-width, control characters and
emoji dropped, spaces next to Chinese characters removed, pinyin/English domain words
(cuishou, credit card) turned into Chinese. `normalise` also returns where each input
character went, so entity offsets can be remapped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Pattern, Sequence, Tuple

from chinese_text import lexicon_files
from chinese_text.script import is_traditional, to_simplified, to_traditional

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# emoji presentation selectors and skin tones: left over once the emoji itself is dropped
_EMOJI_MODIFIER = re.compile("[\ufe00-\ufe0f\U0001f3fb-\U0001f3ff]")

IndexMap = List[int]  # for each input index (and the end), the output index


@dataclass(frozen=True)
class TypoFix:
    """One same-length fix, optionally only in a context (see data/lexicons/typos.yml)."""

    typo: str
    fix: str
    before: Optional[Pattern[str]] = None
    not_before: Optional[Pattern[str]] = None
    after: Optional[Pattern[str]] = None
    not_after: Optional[Pattern[str]] = None

    def applies(self, text: str, start: int) -> bool:
        head, tail = text[:start], text[start + len(self.typo) :]
        return (
            (self.before is None or self.before.search(head) is not None)
            and (self.not_before is None or self.not_before.search(head) is None)
            and (self.after is None or self.after.match(tail) is not None)
            and (self.not_after is None or self.not_after.match(tail) is None)
        )


@dataclass(frozen=True)
class TypoTable:
    fixes: Tuple[TypoFix, ...] = ()
    romanized: Tuple[Tuple[Pattern[str], str], ...] = ()

    @classmethod
    def from_file(cls, path: str) -> "TypoTable":
        return cls.from_mapping(lexicon_files.load_yaml(path), path)

    @classmethod
    def from_mapping(cls, data: Dict[str, Any], where: str) -> "TypoTable":
        fixes = []
        for i, entry in enumerate(data.get("fixes") or []):
            at = f"{where}: fixes[{i}]"
            typo, fix = str(entry.get("typo") or ""), str(entry.get("fix") or "")
            if not typo or len(typo) != len(fix) or typo == fix:
                raise lexicon_files.LexiconError(f"{at}: typo and fix must differ and have the same length")
            context = {}
            for key, anchor in (
                ("before", "(?:{})$"),
                ("not_before", "(?:{})$"),
                ("after", "(?:{})"),
                ("not_after", "(?:{})"),
            ):
                if entry.get(key):
                    context[key] = lexicon_files.compile_any([anchor.format(entry[key])], f"{at}.{key}")
            fixes.append(TypoFix(typo, fix, **context))
        romanized = []
        for i, entry in enumerate(data.get("romanized") or []):
            word, fix = str(entry.get("word") or "").strip(), str(entry.get("fix") or "")
            if not re.fullmatch(r"[a-z]+(?: [a-z]+)*", word) or not fix:
                raise lexicon_files.LexiconError(f"{where}: romanized[{i}] needs a lower-case word and a fix")
            body = r"\s*".join(re.escape(part) for part in word.split())
            pattern = lexicon_files.compile_any([rf"(?<![A-Za-z]){body}(?![A-Za-z])"], f"{where}: romanized[{i}]")
            romanized.append((pattern, fix))
        return cls(tuple(fixes), tuple(romanized))

    def size(self) -> Tuple[int, int]:
        return len(self.fixes), len(self.romanized)

    def fix_same_length(self, text: str) -> str:
        """Fixes typos in place; the result has the same length (offsets unchanged).
        Entries apply in file order, each seeing the fixes made before it."""
        for entry in self.fixes:
            start = text.find(entry.typo)
            if start == -1:  # most entries: no copy of the text
                continue
            chars = list(text)
            while start != -1:
                if entry.applies(text, start):
                    chars[start : start + len(entry.typo)] = entry.fix
                start = text.find(entry.typo, start + 1)
            text = "".join(chars)
        return text

    def romanized_spans(self, text: str) -> List[Tuple[int, int, str]]:
        spans: List[Tuple[int, int, str]] = []
        for pattern, fix in self.romanized:
            spans.extend((m.start(), m.end(), fix) for m in pattern.finditer(text))
        spans.sort(key=lambda span: (span[0], -span[1]))
        kept: List[Tuple[int, int, str]] = []
        for span in spans:  # overlapping words: the longest first ("debt collector", not "debt")
            if not kept or span[0] >= kept[-1][1]:
                kept.append(span)
        return kept


def _half_width(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def _keep(char: str) -> bool:
    category = unicodedata.category(char)
    if category.startswith("C") and char not in "\n\t":
        return False
    return category != "So" and not _EMOJI_MODIFIER.match(char)


def _replace_spans(text: str, spans: Sequence[Tuple[int, int, str]]) -> Tuple[str, IndexMap]:
    """Replaces non-overlapping spans; a replaced span's characters map onto the replacement."""
    out: List[str] = []
    index_map: IndexMap = []
    position = 0
    for start, end, replacement in spans:
        for char in text[position:start]:
            index_map.append(len(out))
            out.append(char)
        base = len(out)
        out.extend(replacement)
        index_map.extend(base + min(p, len(replacement) - 1) for p in range(end - start))
        position = end
    for char in text[position:]:
        index_map.append(len(out))
        out.append(char)
    index_map.append(len(out))
    return "".join(out), index_map


def _fold(text: str) -> Tuple[str, IndexMap]:
    """Half-width, junk dropped, whitespace collapsed and removed next to Chinese characters."""
    out: List[str] = []
    index_map: IndexMap = []
    for position, char in enumerate(text):
        char = _half_width(char)
        index_map.append(len(out))
        if not _keep(char):
            continue
        if char.isspace():
            previous = out[-1] if out else ""
            following = text[position + 1] if position + 1 < len(text) else ""
            if (
                not previous
                or previous == " "
                or _CJK.match(previous)
                or not following
                or _CJK.match(following)
                or following.isspace()
            ):
                continue
            char = " "
        out.append(char)
    index_map.append(len(out))
    return "".join(out), index_map


def normalise(text: str, typos: Optional[TypoTable] = None) -> Tuple[str, IndexMap]:
    """Return the normalised text and, for each input index, its output index."""
    simplified = to_simplified(text)
    if len(simplified) != len(text):  # a phrase mapping changed the length
        simplified = "".join(to_simplified(c) or c for c in text)
    if typos is not None:
        simplified = typos.fix_same_length(simplified)
    folded, index_map = _fold(simplified)
    spans = typos.romanized_spans(folded) if typos is not None else []
    if spans:
        replaced, replace_map = _replace_spans(folded, spans)
        folded, fold_map = _fold(replaced)  # "xinyongka yuqi" -> "信用卡 逾期": drop that space
        index_map = [fold_map[replace_map[i]] for i in index_map]
    return folded.strip(), index_map


def text_script(text: str) -> str:
    """ "traditional", "simplified", or "neutral" when no character tells the scripts apart."""
    if to_simplified(text) == text and to_traditional(text) == text:
        return "neutral"
    return "traditional" if is_traditional(text) else "simplified"
