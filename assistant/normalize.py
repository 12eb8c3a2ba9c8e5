"""Question normalisation: simplified, half-width, and villagers' words mapped to the documents'."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from zhtext.normalize import normalize_query


@dataclass(frozen=True)
class Synonym:
    term: str
    document_term: str
    replace: bool
    # A misspelt document word (低宝): mended in the question the assistant reads, not only in its search.
    typo: bool = False


@lru_cache(maxsize=1)
def synonyms() -> tuple[Synonym, ...]:
    text = resources.files("assistant").joinpath("data/synonyms.tsv").read_text(encoding="utf-8")
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, document_term, mode = (part.strip() for part in line.split("\t"))
        entries.append(Synonym(term, document_term, mode in ("replace", "typo"), mode == "typo"))
    # Longest first, so 农村合作医疗 wins over 合作医疗.
    return tuple(sorted(entries, key=lambda s: len(s.term), reverse=True))


# Raising an animal (养牛, 喂猪) is what the documents call 养殖, and their tables name the animal alone
# (产业类别：牛), a word the search never meets inside the villager's 养牛.
_RAISED = re.compile(r"[养喂]([牛猪羊鸡鸭鹅鱼虾蟹蜂兔])")


@lru_cache(maxsize=1024)
def synonym_names(term: str) -> frozenset[str]:
    """The term and every word the synonym table pairs it with, either way (新农合 and 城乡居民医保); for
    raising an animal (养牛) the animal, as a table row names it."""
    paired = {s.document_term for s in synonyms() if s.term == term}
    animal = raised_animal(term)
    raised = {animal} if animal else set()
    return frozenset({term} | paired | raised | {s.term for s in synonyms() if s.document_term == term})


def raised_animal(term: str) -> str | None:
    """The animal a word for raising one names (牛 of 养牛), or None."""
    raised = _RAISED.fullmatch(term)
    return raised.group(1) if raised else None


def mend_typos(question: str) -> str:
    """低宝申请多久能批下来 -> 低保申请多久能批下来: what the question is about, as the documents spell it."""
    for synonym in synonyms():
        if synonym.typo:
            question = question.replace(synonym.term, synonym.document_term)
    return question


def normalize_question(text: str) -> str:
    """新農合一年交多少錢 -> 新农合一年交多少钱 城乡居民医保 (typos replaced, old names expanded; 养牛 adds
    养殖 and 牛)."""
    question, added = _normalized(text)
    return " ".join([question, *added])


def asked_words(text: str) -> str:
    """The question as `normalize_question` reads it, without the words it adds: what the villager asked
    about, in the documents' spelling. A knowledge base without the synonym table's word for a thing
    (无人驾驶航空器) has not thereby been asked about something it lacks."""
    return _normalized(text)[0]


def _normalized(text: str) -> tuple[str, list[str]]:
    question = normalize_query(text)
    added: list[str] = []
    for animal in _RAISED.findall(question):
        added.extend(word for word in ("养殖", animal) if word not in added)
    for synonym in synonyms():
        if synonym.term not in question:
            continue
        if synonym.replace:
            question = question.replace(synonym.term, synonym.document_term)
        elif synonym.document_term not in question and synonym.document_term not in added:
            added.append(synonym.document_term)
    return question, added
