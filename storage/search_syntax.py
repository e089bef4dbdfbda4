"""The search query language, parsed once and written out for SQLite FTS5 and for
PostgreSQL ``tsquery``, so that a query means the same on both.

    word            contains the word (Chinese: contains the characters, any length)
    "a phrase"      contains the words in this order
    econom*         a word starting with "econom"
    a b, a AND b    both
    a OR b          either (AND binds tighter: a b OR c is (a b) OR c)
    NOT b, -b       without b; a query of only NOT terms lists every article without them
    NEAR(a b)       a and b within 10 words of each other (Chinese: characters), in either
    NEAR(a b, 5)    order; within 5
    ( ... )         grouping

Written as FTS5 spells it: ``police NEAR station`` (NEAR between the words) is refused
with a message rather than searched for the word "NEAR".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.errors import StorageError
from storage.search_tokens import TermTokens, query_tokens

NEAR_DEFAULT = 10
NEAR_MAX = 30  # PostgreSQL spells NEAR as one alternative per distance and order
_LEX = re.compile(r'\s+|(")|(\()|(\))|(,)|([^\s"(),]+)')
_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class Term:
    text: str  # as written (for highlighting)
    tokens: TermTokens


@dataclass(frozen=True)
class Near:
    terms: tuple[Term, ...]
    distance: int


@dataclass(frozen=True)
class All:
    """Every one of ``include`` and none of ``exclude``."""

    include: tuple[Node, ...]
    exclude: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Any_:
    """At least one of ``options``."""

    options: tuple[Node, ...]


Node = Term | Near | All | Any_


def _lex(query: str) -> list[tuple[str, str]]:
    """(kind, value) with kind one of word, phrase, (, ), ','."""
    items: list[tuple[str, str]] = []
    position = 0
    while position < len(query):
        if query[position] == '"':
            end = query.find('"', position + 1)
            if end < 0:
                raise StorageError(f"invalid search query {query!r}: unterminated quote")
            star = query[end + 1 : end + 2] == "*"
            items.append(("phrase*" if star else "phrase", query[position + 1 : end]))
            position = end + 1 + star
            continue
        match = _LEX.match(query, position)
        assert match is not None  # the pattern matches any character
        position = match.end()
        if match.group(2) or match.group(3) or match.group(4):
            items.append((match.group(0), match.group(0)))
        elif match.group(5):
            items.append(("word", match.group(5)))
    return items


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.items = _lex(query)
        self.at = 0

    def fail(self, why: str) -> StorageError:
        return StorageError(f"invalid search query {self.query!r}: {why}")

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> tuple[str, str]:
        item = self.items[self.at]
        self.at += 1
        return item

    def parse(self) -> Node | None:
        if not self.items:
            return None
        node = self.any_()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def any_(self) -> Node | None:
        options = [self.all_()]
        while self.peek() == ("word", "OR"):
            self.take()
            if self.peek() is None or self.peek() == (")", ")"):
                raise self.fail("OR needs a term after it")
            options.append(self.all_())
        kept = tuple(option for option in options if option is not None)
        if len(options) > 1 and any(isinstance(o, All) and not o.include for o in kept):
            raise self.fail("NOT on its own cannot be one side of an OR")
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Any_(kept)

    def all_(self) -> Node | None:
        include: list[Node] = []
        exclude: list[Node] = []
        first = True
        while (item := self.peek()) is not None and item not in (("word", "OR"), (")", ")")):
            if item == ("word", "AND"):
                if first:
                    raise self.fail("AND needs a term before it")
                self.take()
                if self.peek() is None or self.peek() in (("word", "OR"), (")", ")")):
                    raise self.fail("AND needs a term after it")
                continue
            negate = False
            if item == ("word", "NOT"):
                self.take()
                negate = True
                if self.peek() is None or self.peek() in (("word", "OR"), (")", ")")):
                    raise self.fail("NOT needs a term after it")
            elif item[0] == "word" and item[1].startswith("-") and len(item[1]) > 1:
                self.take()
                self.items.insert(self.at, ("word", item[1][1:]))
                negate = True
            node = self.primary()
            first = False
            if node is not None:
                (exclude if negate else include).append(node)
        if not include and not exclude:
            return None
        if len(include) == 1 and not exclude:
            return include[0]
        return All(tuple(include), tuple(exclude))

    def primary(self) -> Node | None:
        kind, value = self.take()
        if kind == "(":
            node = self.any_()
            if self.peek() != (")", ")"):
                raise self.fail("unclosed parenthesis")
            self.take()
            return node
        if kind in (")", ","):
            raise self.fail(f"unexpected {value!r}")
        if kind == "word" and value == "NEAR":
            if self.peek() != ("(", "("):
                raise self.fail("write NEAR as FTS5 does, around its terms: NEAR(police station)")
            self.take()
            return self.near()
        if kind == "word" and value in _OPERATORS:
            raise self.fail(f"{value} needs terms on both sides")
        return self.term(value, prefix=kind == "phrase*" or (kind == "word" and value.endswith("*")))

    def term(self, value: str, *, prefix: bool) -> Term | None:
        tokens = query_tokens(value.rstrip("*"), prefix=prefix)
        return Term(value.rstrip("*"), tokens) if tokens.tokens else None

    def near(self) -> Node | None:
        terms: list[Term] = []
        distance = NEAR_DEFAULT
        while True:
            item = self.peek()
            if item is None:
                raise self.fail("unclosed NEAR(")
            self.take()
            if item[0] == ")":
                break
            if item[0] == ",":
                number = self.peek()
                if number is None or number[0] != "word" or not number[1].isdigit():
                    raise self.fail("NEAR(a b, N) takes a number of words after the comma")
                self.take()
                distance = int(number[1])
                if distance > NEAR_MAX:
                    raise self.fail(f"NEAR distance {distance} is over {NEAR_MAX}")
                if self.peek() != (")", ")"):
                    raise self.fail("unclosed NEAR(")
                continue
            if item[0] == "(":
                raise self.fail("NEAR(...) takes words and phrases only")
            term = self.term(item[1], prefix=item[0] == "phrase*" or item[1].endswith("*"))
            if term is not None:
                terms.append(term)
        if len(terms) < 2:
            return terms[0] if terms else None
        return Near(tuple(terms), distance)


def _names_a_term(items: list[tuple[str, str]]) -> bool:
    for kind, value in items:
        if kind.startswith("phrase") or (kind == "word" and value not in _OPERATORS and value != "NEAR"):
            if query_tokens(value.lstrip("-").rstrip("*")).tokens:
                return True
    return False


def parse(query: str) -> Node | None:
    """The query's tree, or None when it names nothing to look for (empty, only
    operators or punctuation, ``""``). Raises StorageError (``invalid search
    query ...``) on syntax it cannot read."""
    parser = _Parser(query)
    if not _names_a_term(parser.items):
        return None
    return parser.parse()


def positive_terms(node: Node | None) -> list[str]:
    """The terms a match contains (for highlighting), longest first."""
    found: list[str] = []

    def walk(n: Node | None) -> None:
        if isinstance(n, Term):
            if n.text not in found:
                found.append(n.text)
        elif isinstance(n, Near):
            for term in n.terms:
                walk(term)
        elif isinstance(n, All):
            for part in n.include:
                walk(part)
        elif isinstance(n, Any_):
            for part in n.options:
                walk(part)

    walk(node)
    return sorted(found, key=len, reverse=True)


def only_excludes(node: Node | None) -> bool:
    """A query of NOT terms only (``-police``): every article without them."""
    return isinstance(node, All) and not node.include


# -- SQLite FTS5 --------------------------------------------------------------------------------


def _fts_term(term: Term) -> str:
    return '"' + " ".join(term.tokens.tokens) + '"' + ("*" if term.tokens.prefix else "")


def to_fts5(node: Node) -> str:
    """The FTS5 MATCH expression (over the bigram index) for ``node``."""
    if isinstance(node, Term):
        return _fts_term(node)
    if isinstance(node, Near):
        return f"NEAR({' '.join(map(_fts_term, node.terms))}, {node.distance})"
    if isinstance(node, Any_):
        return "(" + " OR ".join(map(to_fts5, node.options)) + ")"
    assert node.include, "a query of NOT terms only is answered without MATCH"
    expression = "(" + " AND ".join(map(to_fts5, node.include)) + ")"
    for excluded in node.exclude:
        expression = f"({expression} NOT {to_fts5(excluded)})"
    return expression


# -- PostgreSQL tsquery ---------------------------------------------------------------------


def _ts_term(term: Term) -> str:
    tokens = [f"'{token}'" for token in term.tokens.tokens]
    if term.tokens.prefix:
        tokens[-1] += ":*"
    return "(" + " <-> ".join(tokens) + ")"


def to_tsquery(node: Node) -> str:
    """A ``tsquery`` literal for ``node`` (cast with ``::tsquery``: no parser runs on
    it). NEAR becomes one ``<n>`` alternative per distance and order."""
    if isinstance(node, Term):
        return _ts_term(node)
    if isinstance(node, Near):
        pairs = []
        terms = [_ts_term(term) for term in node.terms]
        for n in range(1, node.distance + 2):  # FTS5's NEAR(a b, N): at most N tokens between
            for i, left in enumerate(terms):
                for right in terms[i + 1 :]:
                    pairs.append(f"({left} <{n}> {right})")
                    pairs.append(f"({right} <{n}> {left})")
        return "(" + " | ".join(pairs) + ")"
    if isinstance(node, Any_):
        return "(" + " | ".join(map(to_tsquery, node.options)) + ")"
    parts = [to_tsquery(part) for part in node.include] + [f"!{to_tsquery(part)}" for part in node.exclude]
    return "(" + " & ".join(parts) + ")"
