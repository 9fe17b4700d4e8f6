"""Rule-based bank / relation / behavior extraction with a spaCy EntityRuler.

No Rasa import here: :mod:`addons.components.entity_extractor` wraps this for Rasa, and
the functions can be used from scripts and tests on their own. spaCy and jieba
are imported lazily (inside functions), so importing this module is cheap.

Patterns live in ``data/patterns/*.jsonl``, one JSON object a line::

    {"label": "bank", "pattern": "招行", "id": "招商银行"}
    {"label": "relation", "pattern": [{"TEXT": {"IN": ["我家", "我们家"]}}, {"TEXT": "那口子"}], "id": "配偶"}
    {"label": "bank", "pattern": "平安夜", "id": "__none__"}

* ``label`` is the Rasa entity name, ``id`` the canonical value put into the
  entity's ``value``.
* A string ``pattern`` is a surface form. It goes into the EntityRuler as a
  phrase pattern (matched on ``LOWER``), but jieba cuts the same words
  differently depending on context and on the user dictionary (招商银行 vs
  招商 | 银行), and a phrase pattern only matches the one cut ``make_doc`` gave
  the pattern text. So the matcher also accepts a surface form wherever it
  starts and ends on jieba token boundaries, however jieba cut it in between
  (this is what a token pattern for every possible cut would match, at a
  fraction of the cost). Where nothing else was found, a surface form of two or
  more characters is accepted even if jieba glued one of its ends to a
  neighbour (安逸花都 -> 安逸 | 花都), as long as the other end is on a
  boundary (so 光大 is not found inside 发扬光大).
* A list ``pattern`` is a spaCy token pattern, matched as is against the jieba
  tokens (use ``TEXT``/``LOWER`` with ``IN``/``REGEX``/``OP``).
* ``"id": "__none__"`` marks a *negative* pattern: it produces no entity, but
  being longer it wins over the shorter forms it contains (平安夜 vs 平安,
  催收公司 vs 公司, 打我电话 vs 打我).

Overlaps are resolved per label, longest match first: a bank, a relation and a
behavior may overlap ("骂我妈" gives 辱骂 and 父母), two behaviors may not.

The labels ``loan_type`` and ``jurisdiction`` are matched the same way but are
not entities: :func:`loan_types` and :func:`jurisdiction` turn them into facts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)

NONE_ID = "__none__"
RULER_NAME = "entity_ruler"
FALLBACK_FILE = "surface_forms.json"
SPACY_DIR = "spacy"
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
# Matches dropped when a negation comes right before them, per label: the
# regular expression must match at the end of the ``window`` characters in front
# of the match. A pattern that itself starts with 不/没 ("不肯走", "不出示证件")
# is not affected, since the check looks before the match.
_NEGATION_RE = re.compile(
    r"(?:没有|没|并没有|并未|从没|从来没有|从来没|未曾|未|不会|不再|没再|不要|别|不)"
    r"(?:再|敢|真的|真|直接|当面|亲自)?\s*$"
)
# "他们没有找我父母" / "还没打到我单位": only a past negation of a contact verb;
# "不要告诉我父母" is a plea about a threat, so the relation stays.
_RELATION_NEGATION_RE = re.compile(
    r"(?:没有|没|并没有|并未|未|从没有?|从来没有?|还没有?|也没有?|都没有?)(?:再|去|来)?"
    r"(?:找|联系|打给|打电话给|打电话到|打到|打去|告诉|通知|骚扰|打扰|联络|去|到|上|找到|找过|联系过)"
    r"(?:过|了)?(?:我的?|我们的?|他的?|她的?|我家的?)?\s*$"
)
# "我没借过网贷" / "这不是高利贷": the loan type is not the user's.
_LOAN_NEGATION_RE = re.compile(
    r"(?:没有|没|不是|并非|并不是|也不是|从没|从来没有?|从不|不碰|不用|没碰过|没用过|没借过|没借|没欠|没有借过|"
    r"没有欠|没办过|没有办过|没办)(?:过|任何|什么)?\s*$"
)
NEGATIONS = {
    "behavior": (_NEGATION_RE, 6),
    "relation": (_RELATION_NEGATION_RE, 12),
    "loan_type": (_LOAN_NEGATION_RE, 6),
    "court_stage": (_LOAN_NEGATION_RE, 6),  # "还没起诉", "没有被执行"
}


class PatternError(ValueError):
    """A patterns file has a malformed line."""


@dataclass(frozen=True)
class RuleEntity:
    """An entity found by the rules: character offsets into the text."""

    label: str
    value: str
    start: int
    end: int


# --------------------------------------------------------------------------- #
# Reading and fingerprinting the patterns folder.


def pattern_files(folder: Path) -> List[Path]:
    """The ``*.jsonl`` files of the patterns folder, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file())


def patterns_fingerprint(folder: Path) -> str:
    """A hash of every patterns file's name and content (for graph caching)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    files = pattern_files(folder)
    if not files:
        digest.update(f"no patterns at {folder.resolve()}".encode("utf-8"))
    for path in files:
        digest.update(path.name.encode("utf-8"))
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def load_patterns(folder: Path) -> List[Dict[str, Any]]:
    """Read and validate all patterns of the folder.

    Raises:
        PatternError: for a line that is not valid JSON or lacks label/pattern.
        FileNotFoundError: when the folder has no ``*.jsonl`` file.
    """
    files = pattern_files(folder)
    if not files:
        raise FileNotFoundError(f"No *.jsonl pattern files in '{Path(folder).resolve()}'.")
    rows: List[Dict[str, Any]] = []
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                line = line.strip()
                if not line or line.startswith("//"):
                    continue
                where = f"{path}:{lineno}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise PatternError(f"{where}: invalid JSON ({e})") from e
                rows.append(_validate_row(row, where))
    return rows


def _validate_row(row: Any, where: str) -> Dict[str, Any]:
    if not isinstance(row, dict):
        raise PatternError(f"{where}: expected a JSON object")
    label, pattern = row.get("label"), row.get("pattern")
    if not isinstance(label, str) or not label.strip():
        raise PatternError(f"{where}: 'label' must be a non-empty string")
    if isinstance(pattern, str):
        pattern = pattern.strip()
        if not pattern:
            raise PatternError(f"{where}: empty 'pattern'")
    elif not (isinstance(pattern, list) and pattern and all(isinstance(t, dict) for t in pattern)):
        raise PatternError(f"{where}: 'pattern' must be a string or a token list")
    ent_id = row.get("id")
    if ent_id is None:
        if not isinstance(pattern, str):
            raise PatternError(f"{where}: a token pattern needs an 'id'")
        ent_id = pattern
    if not isinstance(ent_id, str) or not ent_id.strip():
        raise PatternError(f"{where}: 'id' must be a non-empty string")
    return {"label": label.strip(), "pattern": pattern, "id": ent_id.strip()}


# --------------------------------------------------------------------------- #
# Compiling patterns.


def ruler_patterns(rows: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The rows as EntityRuler patterns (strings become phrase patterns)."""
    return [{"label": r["label"], "pattern": r["pattern"], "id": r["id"]} for r in rows]


def surface_forms(rows: Sequence[Dict[str, Any]]) -> Dict[str, List[Tuple[str, str]]]:
    """The string patterns by label: ``{label: [(lower-cased form, id), ...]}``."""
    forms: Dict[str, Dict[str, str]] = {}
    for row in rows:
        if isinstance(row["pattern"], str):
            forms.setdefault(row["label"], {}).setdefault(row["pattern"].lower(), row["id"])
    return {label: sorted(d.items()) for label, d in sorted(forms.items())}


def blank_chinese_nlp():
    """``spacy.blank("zh")`` segmenting with jieba (not per character)."""
    import spacy

    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


# --------------------------------------------------------------------------- #
# The matcher.


class RuleMatcher:
    """A jieba-segmenting spaCy pipeline with an EntityRuler, plus surface forms.

    Matching a message, per label:

    1. the EntityRuler's token patterns and phrase patterns, and every string
       pattern found in the text with both ends on jieba token boundaries --
       whatever way jieba cut it in between (招商银行 / 招商 | 银行); longest
       match first, no overlap;
    2. then, where nothing of that label was found, string patterns of two or
       more characters (no Latin letters) with at least one end on a token
       boundary (jieba glued the other end to a neighbour: 安逸 | 花都).

    Negative patterns (``id == "__none__"``) take part in step 1 even where
    jieba glued one of their ends, and are dropped at the end.
    """

    def __init__(self, nlp, forms: Dict[str, List[Tuple[str, str]]]) -> None:
        self.nlp = nlp
        self.ruler = nlp.get_pipe(RULER_NAME)
        self._sep = getattr(self.ruler, "ent_id_sep", "||")
        self._index: Dict[str, List[Tuple[str, str, bool]]] = {}
        for label, items in forms.items():
            for form, ent_id in items:
                glue_ok = len(form) >= 2 and not _ASCII_LETTER_RE.search(form)
                self._index.setdefault(form, []).append((label, ent_id, glue_ok))
        self._max_len = max((len(f) for f in self._index), default=0)
        # Prefixes and suffixes of the forms let the scans below stop as soon
        # as no form can start (or end) there: a few lookups per position.
        self._prefixes = {f[:i] for f in self._index for i in range(1, len(f) + 1)}
        self._suffixes = {f[i:] for f in self._index for i in range(len(f))}
        self._label_cache: Dict[int, Tuple[str, str]] = {}
        self._has_token_patterns = bool(getattr(self.ruler, "token_patterns", None))
        self._has_phrase_patterns = bool(getattr(self.ruler, "phrase_patterns", None))

    # -- building and persisting ------------------------------------------- #

    @classmethod
    def from_rows(cls, rows: Sequence[Dict[str, Any]]) -> "RuleMatcher":
        nlp = blank_chinese_nlp()
        ruler = nlp.add_pipe(
            "entity_ruler",
            name=RULER_NAME,
            config={"validate": True, "phrase_matcher_attr": "LOWER"},
        )
        ruler.add_patterns(ruler_patterns(rows))
        return cls(nlp, surface_forms(rows))

    def to_disk(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.nlp.to_disk(path / SPACY_DIR)
        forms: Dict[str, List[Tuple[str, str]]] = {}
        for form, hits in sorted(self._index.items()):
            for label, ent_id, _ in hits:
                forms.setdefault(label, []).append((form, ent_id))
        (path / FALLBACK_FILE).write_text(json.dumps(forms, ensure_ascii=False, indent=0), encoding="utf-8")

    @classmethod
    def from_disk(cls, path: Path) -> "RuleMatcher":
        import spacy

        path = Path(path)
        nlp = spacy.load(path / SPACY_DIR)
        forms = json.loads((path / FALLBACK_FILE).read_text(encoding="utf-8"))
        return cls(nlp, {k: [tuple(x) for x in v] for k, v in forms.items()})

    # -- matching ------------------------------------------------------------ #

    def _label_of(self, match_id: int) -> Tuple[str, str]:
        cached = self._label_cache.get(match_id)
        if cached is None:
            key = self.nlp.vocab.strings[match_id]
            if self._sep in key:
                label, ent_id = key.rsplit(self._sep, 1)
            else:
                label, ent_id = key, key
            cached = self._label_cache[match_id] = (label, ent_id)
        return cached

    def _make_doc(self, text: str, words: Optional[Sequence[str]]):
        """The Doc spaCy's jieba tokenizer makes, from jieba's words when the caller has them."""
        if words is None or "".join(words) != text:
            return self.nlp.make_doc(text)
        from spacy.tokens import Doc
        from spacy.util import get_words_and_spaces

        # as spacy.lang.zh.ChineseTokenizer does with the words of jieba.cut
        kept, spaces = get_words_and_spaces([w for w in words if w], text)
        return Doc(self.nlp.vocab, words=kept, spaces=spaces)

    def extract(self, text: Any, words: Optional[Sequence[str]] = None) -> List[RuleEntity]:
        """Entities (canonical values) found in ``text``, in text order.

        ``words``: jieba's segmentation of ``text`` (the Rasa tokenizer's tokens),
        to save segmenting it again; ignored unless they spell ``text`` exactly.
        """
        if not isinstance(text, str) or not text.strip():
            return []
        doc = self._make_doc(text, words)
        if not len(doc):
            return []
        starts = sorted({tok.idx for tok in doc})
        start_set = set(starts)
        ends = {tok.idx + len(tok.text) for tok in doc}
        n = len(text)

        exact: Dict[str, List[Tuple[int, int, str]]] = {}
        glued: Dict[str, List[Tuple[int, int, str]]] = {}

        # 1a. EntityRuler (token patterns and phrase patterns).
        matches = []
        if self._has_token_patterns:
            matches.extend(self.ruler.matcher(doc))
        if self._has_phrase_patterns:
            matches.extend(self.ruler.phrase_matcher(doc))
        for match_id, start, end in matches:
            if start == end:
                continue
            label, ent_id = self._label_of(match_id)
            last = doc[end - 1]
            exact.setdefault(label, []).append((doc[start].idx, last.idx + len(last.text), ent_id))

        # 1b/2. Surface forms starting on a token boundary (any cut inside).
        index, max_len = self._index, self._max_len
        prefixes, suffixes = self._prefixes, self._suffixes
        low = text.lower()
        if len(low) != n:  # a character whose lower case is longer: slice, then lower
            low = None
        for b in starts:
            for e in range(b + 1, min(n, b + max_len) + 1):
                piece = low[b:e] if low is not None else text[b:e].lower()
                if piece not in prefixes:
                    break
                hits = index.get(piece)
                if not hits:
                    continue
                aligned = e in ends
                for label, ent_id, glue_ok in hits:
                    # Negatives only suppress: let them compete with aligned
                    # matches even when jieba glued one end (归外 | 包 | 公司).
                    if aligned or (glue_ok and ent_id == NONE_ID):
                        exact.setdefault(label, []).append((b, e, ent_id))
                    elif glue_ok:
                        glued.setdefault(label, []).append((b, e, ent_id))
        # 2. ... and glued forms ending on a boundary but starting mid-token.
        for e in ends:
            for b in range(e - 2, max(0, e - max_len) - 1, -1):
                piece = low[b:e] if low is not None else text[b:e].lower()
                if piece not in suffixes:
                    break
                if b in start_set:
                    continue
                hits = index.get(piece)
                if hits:
                    for label, ent_id, glue_ok in hits:
                        if glue_ok:
                            target = exact if ent_id == NONE_ID else glued
                            target.setdefault(label, []).append((b, e, ent_id))

        result: List[RuleEntity] = []
        for label in set(exact) | set(glued):
            keep = _longest_first(exact.get(label, []), [])
            keep = _longest_first(glued.get(label, []), keep)
            negation = NEGATIONS.get(label)
            result.extend(
                RuleEntity(label, ent_id, s, e)
                for s, e, ent_id in keep
                if ent_id != NONE_ID and not (negation and negation[0].search(text[max(0, s - negation[1]) : s]))
            )
        result.sort(key=lambda r: (r.start, r.end, r.label))
        return result


def _longest_first(cands: List[Tuple[int, int, str]], keep: List[Tuple[int, int, str]]) -> List[Tuple[int, int, str]]:
    """Add candidates to ``keep``, longest (then leftmost) first, no overlaps."""
    for c in sorted(set(cands), key=lambda c: (-(c[1] - c[0]), c[0], c[2])):
        if not any(c[0] < k[1] and k[0] < c[1] for k in keep):
            keep.append(c)
    return keep


def iter_labels(rows: Iterable[Dict[str, Any]]) -> List[str]:
    """The entity labels the rows produce (negatives excluded)."""
    return sorted({r["label"] for r in rows if r["id"] != NONE_ID})


# --------------------------------------------------------------------------- #
# Derived facts: the loan type and the jurisdiction of the debt.
#
# ``loan_type`` and ``jurisdiction`` patterns are matched like the entities but
# are not Rasa entities (an extra entity type would count as a false positive
# in entity evaluations): :mod:`addons.components.entity_extractor` turns them into the
# message's ``derived_facts`` with the functions below.

LOAN_TYPE = "loan_type"
JURISDICTION = "jurisdiction"
COURT_STAGE = "court_stage"  # sued / judgment (a judgment, enforcement, 失信, 限高 …)
CAN_PAY = "can_pay"  # no / yes: whether the debtor says they are able to pay
DERIVED_LABELS = (LOAN_TYPE, JURISDICTION, COURT_STAGE, CAN_PAY)
LOAN_TYPES = ("credit_card", "bank_loan", "online_lending", "private_loan", "illegal_loan")
OUTSIDE_PLACES = ("taiwan", "hong_kong")
MAINLAND = "mainland"
# Weak signs (procedures, bodies, slang) have this suffix: a mainland lender
# named in the same message ("招行的卡能走更生吗") or a story set on the mainland
# (``mainland_context``: "来大陆工作才办了卡") outweighs them.
CONTEXT_SUFFIX = "_context"
# 中信 is the mainland 中信银行, or Taiwan's 中国信托 for a Taiwanese speaker.
AMBIGUOUS_BANKS = {"中信银行": {"taiwan": "中国信托银行"}}
_BANK_NAME_RE = re.compile(r"银行|信用社$|^中银香港$")
_CARD_AFTER_BANK_RE = re.compile(r"(?:的)?(?:信用卡|卡)")
_LOAN_AFTER_BANK_RE = re.compile(r"(?:那边|那里)?(?:的)?(?:贷款|贷了|借了|借的|借款|贷的|信贷)")
_CLAUSE_BREAK_RE = re.compile(r"[，。,.;；!！?？\n、：:]")


def court_stage(rules: Sequence[RuleEntity]) -> Optional[str]:
    """judgment when any sign of a judgment or enforcement is there, else sued, else None."""
    stages = {r.value for r in rules if r.label == COURT_STAGE}
    return "judgment" if "judgment" in stages else ("sued" if "sued" in stages else None)


def can_pay(rules: Sequence[RuleEntity]) -> Optional[str]:
    """The first thing said about the ability to pay ("没钱还" -> no, "有能力还" -> yes)."""
    return next((r.value for r in sorted(rules, key=lambda r: r.start) if r.label == CAN_PAY), None)


def is_bank(value: str) -> bool:
    """A bank or credit union; other lenders (花呗, 招联金融 ...) lend online."""
    return bool(_BANK_NAME_RE.search(value))


def _overlaps(a: RuleEntity, b: RuleEntity) -> bool:
    return a.start < b.end and b.start < a.end


def loan_types(text: str, rules: Sequence[RuleEntity], expense_starts: Sequence[int] = ()) -> List[str]:
    """The loan types a message talks about, in order of first mention.

    From ``loan_type`` matches, and from lenders: a non-bank lender is online
    lending, a bank followed by 卡 a credit card, by 贷款/借了 a bank loan. A
    mortgage or car loan that is a monthly expense ("房贷每月三千", the
    ``expense_starts`` of monthly_expense numbers) is not the debt in question.
    """
    banks = [r for r in rules if r.label == "bank"]
    found: List[Tuple[int, str]] = []
    for r in rules:
        if r.label != LOAN_TYPE or r.value not in LOAN_TYPES:
            continue
        if any(_overlaps(r, b) and not is_bank(b.value) for b in banks):
            continue  # "玖富借条": the platform says online lending, not 借条
        if r.value == "bank_loan" and _expense_follows(text, r.end, expense_starts):
            continue
        found.append((r.start, r.value))
    for b in banks:
        if _LOAN_NEGATION_RE.search(text[max(0, b.start - 6) : b.start]):
            continue
        if not is_bank(b.value):
            found.append((b.start, "online_lending"))
            continue
        after = text[b.end : b.end + 6]
        if text[b.start : b.end].endswith("卡") or _CARD_AFTER_BANK_RE.match(after):
            found.append((b.start, "credit_card"))
        elif _LOAN_AFTER_BANK_RE.match(after):
            found.append((b.start, "bank_loan"))
    ordered: List[str] = []
    for _, kind in sorted(found):
        if kind not in ordered:
            ordered.append(kind)
    return ordered


def _expense_follows(text: str, end: int, expense_starts: Sequence[int]) -> bool:
    for s in expense_starts:
        if end <= s <= end + 8 and not _CLAUSE_BREAK_RE.search(text[end:s]):
            return True
    return False


@dataclass(frozen=True)
class Jurisdiction:
    """Where the debt is: ``place`` is taiwan / hong_kong (None: the mainland).

    ``places`` lists every place named, in order, when the message mixes an
    outside debt with a mainland one; ``bank_values`` renames ambiguous banks
    (中信 in a Taiwan story is 中国信托).
    """

    place: Optional[str]
    places: Tuple[str, ...] = ()
    bank_values: Tuple[Tuple[str, str], ...] = ()


def jurisdiction(rules: Sequence[RuleEntity]) -> Jurisdiction:
    """The jurisdiction of the debt from ``jurisdiction`` matches and lenders.

    A Taiwan / Hong Kong lender, currency or an explicit "在台湾欠的" decides.
    Procedures and bodies (前置协商, 收数公司 ...) decide only when no mainland
    lender is named. Being Taiwanese or living in Hong Kong is no sign at all.
    """
    jur = [r for r in rules if r.label == JURISDICTION]
    strong = [r for r in jur if r.value in OUTSIDE_PLACES]
    weak = [r for r in jur if r.value.endswith(CONTEXT_SUFFIX) and r.value != MAINLAND + CONTEXT_SUFFIX]
    signs = strong + weak
    mainland = [r for r in jur if r.value == MAINLAND]
    mainland += [
        b
        for b in rules
        if b.label == "bank" and b.value not in AMBIGUOUS_BANKS and not any(_overlaps(b, s) for s in signs)
    ]
    # "来大陆工作才办了卡": the story is on the mainland, the debt not named.
    here = [r for r in jur if r.value == MAINLAND + CONTEXT_SUFFIX]
    if strong:
        place = strong[0].value
    elif weak and not mainland and not here:
        place = weak[0].value[: -len(CONTEXT_SUFFIX)]
    else:
        return Jurisdiction(None)
    places: Tuple[str, ...] = ()
    if mainland:
        named = sorted(
            [(r.start, r.value.replace(CONTEXT_SUFFIX, "")) for r in strong] + [(r.start, MAINLAND) for r in mainland]
        )
        places = tuple(dict.fromkeys(v for _, v in named))
    renames: List[Tuple[str, str]] = []
    if not mainland:
        for value, by_place in AMBIGUOUS_BANKS.items():
            if place in by_place and any(r.label == "bank" and r.value == value for r in rules):
                renames.append((value, by_place[place]))
    return Jurisdiction(place, places, tuple(renames))
