"""Find the clause of a message that asks the question (pure functions, no Rasa import).

Frightened people write three or four sentences of background (job, illness, banks,
family), then the question. The question clause is the last one carrying a question
word or mark (吗/呢/么/怎么/咋/能不能/是不是/会不会/？…), or the last clause when none
does; a bare "怎么办" borrows the clause before it ("他们去我单位闹，怎么办").
"""

from __future__ import annotations

import re
from typing import List, Tuple

_BREAK = re.compile(r"(?<=[。！？!?；;\n，,])|(?<=\.\.\.)|(?<=…)|(?<=～)|(?<=~)")
QUESTION = re.compile(
    r"吗|嘛|么|呢|怎么|咋|如何|怎样|能不能|能否|可不可以|可以吗|是不是|会不会|算不算|要不要|有没有|该不该|行不行|"
    r"用不用|需不需要|对不对|多久|多少|多长|几[天个年月次号点]|哪|谁|什么|啥|为什么|为啥|是否|有用吗|[?？]|"
    r"点算|係咪|系咪|有冇|会唔会|可唔可以|点样|咩"
)
_MEANINGFUL = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")
SHORT_QUESTION = 5  # meaningful characters; a shorter question clause borrows the clause before it


def clauses(text: str) -> List[str]:
    """The message cut after sentence and clause marks; clauses without words are dropped."""
    parts = [part.strip() for part in _BREAK.split(text or "")]
    return [part for part in parts if _MEANINGFUL.search(part)]


def _size(text: str) -> int:
    return len(_MEANINGFUL.findall(text))


def focus_span(parts: List[str]) -> Tuple[int, int]:
    """(first, last) index of the clauses that ask the question."""
    if not parts:
        return 0, -1
    asking = [i for i, part in enumerate(parts) if QUESTION.search(part)]
    last = asking[-1] if asking else len(parts) - 1
    first = last
    if _size(parts[last]) <= SHORT_QUESTION and last > 0:
        first = last - 1
    return first, last


def focus_clause(text: str) -> str:
    """The question of the message ("" for a message without words)."""
    parts = clauses(text)
    first, last = focus_span(parts)
    return "".join(parts[first : last + 1])


def other_clauses(text: str) -> List[str]:
    """The clauses outside the question (where a second worry may be)."""
    parts = clauses(text)
    first, last = focus_span(parts)
    return parts[:first] + parts[last + 1 :]
