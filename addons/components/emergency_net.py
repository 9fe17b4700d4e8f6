"""Rasa NLU component: a deterministic safety net for danger happening now.

Runs after FallbackClassifier and InputGuard. When the message describes collectors
breaking in, refusing to leave, blocking, grabbing or hitting the user *now*, the intent
becomes `emergency_now` (confidence 1.0, first in the ranking) whatever the classifier
said, and the message gets the alert `live_danger`. Conversely, when the classifier said
`emergency_now` but every danger in the message is explicitly hypothetical, past, over,
a threat made from afar, the subject of a legal question, negated (没有砸门) or about
something else (施工, 游戏), the message goes back to the classifier's next intent (its
topic). The phrases live in data/lexicons/emergency.yml; this module only decides how
they combine.

Decision, per clause (split at punctuation) with a danger match that is not negated:
  * a conditional/future/unreal cue (如果, 万一, 明天, 会不会 …) in the clause, or in an
    earlier clause not followed by a now-clause, keeps it hypothetical;
  * a past cue (昨天, 上次, 砸过 …, or habitual 天天) keeps it past, and "they have left"
    (已经走了) anywhere ends it, unless the message says it is happening again (现在还在, 又来了);
  * a reported threat (说要砸门, 不开门就砸) is live only if they are at the door;
  * otherwise it is live when the clause says now (现在, 正在, 已经 …) or the danger verb is
    progressive or imminent (在砸, 要冲进来);
  * failing that, a legal or general question in the clause (违法吗, 能…吗, 遇到…) keeps
    it a question, and evidence or injuries being dealt with (验伤, 录了音) make it after
    the fact; else it is live when a violent act is perfective (砸门了), the message cries
    for help (救命, !, 😭), or — for violent acts — nothing in the message marks it as a
    question, a hypothesis or a past event and its clause is not a bare "…怎么办".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Dict, Iterable, List, Optional, Pattern, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.components.text_normalizer import DROPPED_SYMBOLS, INPUT_EMPTY
from chinese_text import lexicon_files

EMERGENCY_INTENT = "emergency_now"
ALERTS = "alerts"
LIVE_DANGER = "live_danger"
LEXICON_PATH = "lexicon_path"
BACK_TO_TOPIC = "back_to_topic"  # send a classifier emergency_now for a not-now danger to its topic
DEFAULT_LEXICON = "data/lexicons/emergency.yml"
FORCE, PRESENCE = "force", "presence"
LIVE, NOT_NOW, UNSURE = "live", "not_now", "unsure"
FALLBACK_INTENT = "nlu_fallback"
_CLAUSE_SPLIT = re.compile(r"[,.!?;:，。！？；：\n~～…、]+")
_CUE_KEYS = (
    "negation",
    "other_actors",
    "threat_speech",
    "threat_marker",
    "presence_now",
    "hypothetical_strong",
    "hypothetical_weak",
    "past",
    "reactivate",
    "gone",
    "aftermath",
    "generic_question",
    "live_strong",
    "progressive_before",
    "force_before",
    "progressive_after",
    "progressive_inside",
    "perfective_after",
    "distress",
)


def add_alert(message: Message, alert: str) -> None:
    """Adds an alert to the message's `alerts` output, keeping the ones already there."""
    alerts = list(message.get(ALERTS) or [])
    if alert not in alerts:
        alerts.append(alert)
    message.set(ALERTS, alerts, add_to_output=True)


def override_intent(message: Message, name: str) -> None:
    """Sets the intent with confidence 1.0, first in the ranking (other candidates kept)."""
    intent = {"name": name, "confidence": 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)


_PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")


def _expand(pattern: str, groups: Dict[str, str], where: str) -> str:
    """Replaces `{name}` by its group; an unknown name is an error, not a literal."""
    for name, body in groups.items():
        pattern = pattern.replace("{" + name + "}", f"(?:{body})")
    unknown = _PLACEHOLDER.search(pattern)
    if unknown:
        raise lexicon_files.LexiconError(f"{where}: unknown group {unknown.group(0)}")
    return pattern


@dataclass(frozen=True)
class EmergencyLexicon:
    danger: Tuple[Tuple[str, Pattern[str]], ...]  # (tier, regex)
    cues: Dict[str, Pattern[str]]
    distress_symbols: frozenset
    dialect: Tuple[Tuple[str, str], ...] = ()  # Cantonese -> Mandarin, longest first

    @classmethod
    def from_mapping(cls, data: Dict[str, Any], where: str) -> "EmergencyLexicon":
        groups = {str(k): "|".join(v) if isinstance(v, list) else str(v) for k, v in (data.get("groups") or {}).items()}
        danger = data.get("danger") or {}
        if set(danger) != {FORCE, PRESENCE}:
            raise lexicon_files.LexiconError(f"{where}: 'danger' needs exactly '{FORCE}' and '{PRESENCE}'")
        tiers = []
        for tier in (FORCE, PRESENCE):
            for i, pattern in enumerate(danger[tier] or []):
                at = f"{where}: {tier}[{i}]"
                tiers.append((tier, lexicon_files.compile_any([_expand(pattern, groups, at)], at)))
        cues = {}
        for key in _CUE_KEYS:
            patterns = [_expand(p, groups, f"{where}: {key}") for p in data.get(key) or []]
            cues[key] = lexicon_files.compile_any(patterns, f"{where}: {key}")
        dialect = sorted(
            ((str(k), str(v)) for k, v in (data.get("dialect") or {}).items()), key=lambda pair: -len(pair[0])
        )
        return cls(tuple(tiers), cues, frozenset(str(data.get("distress_symbols") or "")), tuple(dialect))

    def mandarin(self, text: str) -> str:
        for word, replacement in self.dialect:
            text = text.replace(word, replacement)
        return text

    def size(self) -> int:
        return len(self.danger) + sum(p.pattern.count("|") + 1 for p in self.cues.values())


@dataclass(frozen=True)
class _Clause:
    text: str
    strong_hyp: bool
    weak_hyp: bool
    past: bool
    now: bool


@dataclass(frozen=True)
class _Context:
    scope_hyp: bool  # an earlier clause set up a condition
    scope_past: bool  # an earlier clause told a past story (not reactivated)
    reactivated: bool
    gone: bool  # they have left (not reactivated)
    after_the_fact: bool  # injuries checked, evidence kept
    distress: bool
    at_the_door: bool
    flagged: bool  # some clause is a question, hypothesis or past report


@dataclass(frozen=True)
class Assessment:
    """LIVE; NOT_NOW when every danger phrase is hypothetical, past, over, a threat made from
    afar, the subject of a question, negated or about something else; UNSURE otherwise;
    None without any danger phrase."""

    verdict: Optional[str]
    phrase: Optional[str]


class EmergencyDetector:
    """Pure text logic (no Rasa): is this message a danger happening now?"""

    def __init__(self, lexicon: EmergencyLexicon) -> None:
        self._lex = lexicon

    @classmethod
    def from_file(cls, path: str) -> "EmergencyDetector":
        return cls(EmergencyLexicon.from_mapping(lexicon_files.load_yaml(path), path))

    def _cue(self, key: str, text: str) -> bool:
        return bool(text) and self._lex.cues[key].search(text) is not None

    def _clause(self, text: str) -> _Clause:
        return _Clause(
            text=text,
            strong_hyp=self._cue("hypothetical_strong", text),
            weak_hyp=self._cue("hypothetical_weak", text),
            past=self._cue("past", text),
            now=self._cue("live_strong", text),
        )

    def live_danger(self, text: str, symbols: str = "") -> Optional[str]:
        """The danger phrase that makes the message a live emergency, or None."""
        assessment = self.assess(text, symbols)
        return assessment.phrase if assessment.verdict == LIVE else None

    def assess(self, text: str, symbols: str = "") -> Assessment:
        """Judges every danger phrase of the message (see the module docstring)."""
        if not text or not text.strip():
            return Assessment(None, None)
        text = self._lex.mandarin(text)
        clauses = [self._clause(c) for c in _CLAUSE_SPLIT.split(text) if c.strip()]
        # "现在还在门口" reactivates a past story; "昨晚他们还在楼下" is the story itself.
        reactivated = any(
            self._cue("reactivate", c) and not self._cue("past", c) for c in _CLAUSE_SPLIT.split(text) if c.strip()
        )
        narration = "，".join(self._narration(c) for c in clauses)
        ctx = _Context(
            scope_hyp=False,
            scope_past=False,
            reactivated=reactivated,
            gone=self._cue("gone", text) and not reactivated,  # "他们刚才砸门了，现在已经走了"
            after_the_fact=self._cue("aftermath", text) and not reactivated,
            distress=self._cue("distress", text) or any(s in self._lex.distress_symbols for s in symbols),
            at_the_door=self._cue("presence_now", narration),
            flagged=any(c.strong_hyp or c.weak_hyp or (c.past and not reactivated) for c in clauses),
        )
        verdicts = []
        for clause in clauses:
            if clause.now and not clause.strong_hyp and not clause.past:
                ctx = replace(ctx, scope_hyp=False, scope_past=False)  # a now-clause ends a condition or story
            for tier, match, ruled_out in self._dangers(clause.text):
                verdict = NOT_NOW if ruled_out else self._judge(clause, tier, match, ctx)
                if verdict == LIVE:
                    return Assessment(LIVE, match.group(0))
                verdicts.append((verdict, match.group(0)))
            ctx = replace(
                ctx,
                scope_hyp=ctx.scope_hyp or clause.strong_hyp,
                scope_past=ctx.scope_past or (clause.past and not reactivated),
            )
        if not verdicts:
            return Assessment(None, None)
        if all(verdict == NOT_NOW for verdict, _ in verdicts):
            return Assessment(NOT_NOW, verdicts[0][1])
        return Assessment(UNSURE, verdicts[0][1])

    def _narration(self, clause: _Clause) -> str:
        """The clause without what follows a speech verb (a quoted threat)."""
        speech = self._lex.cues["threat_speech"].search(clause.text)
        return clause.text[: speech.start()] if speech else clause.text

    def _dangers(self, text: str) -> Iterable[Tuple[str, "re.Match[str]", bool]]:
        """(tier, match, ruled_out): negated ("没有砸门") or about something else (狗, 游戏, 施工)."""
        elsewhere = self._cue("other_actors", text)
        for tier, pattern in self._lex.danger:
            for match in pattern.finditer(text):
                yield tier, match, elsewhere or self._cue("negation", text[: match.start()])

    def _judge(self, clause: _Clause, tier: str, match: "re.Match[str]", ctx: _Context) -> str:
        if ctx.gone:
            return NOT_NOW
        before, after = clause.text[: match.start()], clause.text[match.end() :]
        speech = self._lex.cues["threat_speech"].search(before)
        if speech is not None and self._cue("threat_marker", clause.text[speech.start() :]):
            # "说不开门就砸", "说要来砸门": a threat, live only when they are at the door
            # ("打电话说催收进了屋不走" is a report and goes on below)
            outer = self._clause(before[: speech.start()])
            if outer.strong_hyp or (outer.past and not ctx.reactivated) or ctx.scope_hyp or ctx.scope_past:
                return NOT_NOW
            return LIVE if ctx.at_the_door else NOT_NOW
        if clause.strong_hyp or (clause.past and not ctx.reactivated):
            return NOT_NOW
        progressive = (
            self._cue("progressive_before", before)
            or self._cue("progressive_after", after)
            or self._cue("progressive_inside", match.group(0))
            or (tier == FORCE and self._cue("force_before", before))
        )
        if clause.now:
            return LIVE
        if ctx.scope_hyp or ctx.scope_past or (clause.weak_hyp and not progressive):
            return NOT_NOW
        if progressive:
            return LIVE
        if ctx.after_the_fact:
            return NOT_NOW
        if tier == FORCE and ("了" in match.group(0) or self._cue("perfective_after", after)):
            return LIVE  # "砸门了", "冲进来了"
        if ctx.distress:
            return LIVE
        if tier == FORCE and not ctx.flagged and not self._cue("generic_question", clause.text):
            return LIVE
        return UNSURE


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencyNet(GraphComponent):
    """Overrides the intent to emergency_now for a live danger (see the module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {LEXICON_PATH: DEFAULT_LEXICON, BACK_TO_TOPIC: True}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return lexicon_files.fingerprint([config.get(LEXICON_PATH, DEFAULT_LEXICON)])

    def __init__(self, detector: EmergencyDetector, back_to_topic: bool = True) -> None:
        self._detector = detector
        self._back_to_topic = back_to_topic

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyNet":
        config = {**cls.get_default_config(), **config}
        return cls(EmergencyDetector.from_file(config[LEXICON_PATH]), bool(config[BACK_TO_TOPIC]))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(INPUT_EMPTY):
                continue
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            verdict = self._detector.assess(text, message.get(DROPPED_SYMBOLS) or "").verdict
            if verdict == LIVE:
                override_intent(message, EMERGENCY_INTENT)
                add_alert(message, LIVE_DANGER)
            elif verdict == NOT_NOW and self._back_to_topic:
                if (message.get(INTENT) or {}).get("name") == EMERGENCY_INTENT:
                    _back_to_topic(message)
        return messages


def _back_to_topic(message: Message) -> None:
    """The classifier said emergency_now for a hypothetical or past danger: its next intent."""
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != EMERGENCY_INTENT]
    topic = next((r for r in ranking if r.get("name") != FALLBACK_INTENT), None)
    if topic is None:
        return
    message.set(INTENT, dict(topic), add_to_output=True)
    message.set(INTENT_RANKING_KEY, [topic] + [r for r in ranking if r is not topic], add_to_output=True)
