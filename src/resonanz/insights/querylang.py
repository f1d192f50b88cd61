"""The listening-query language: words, "quoted phrases", AND, OR, NOT and parentheses.

A PR manager writes ``(Lieferung OR Versand) AND NOT "DHL Express"``; adjacent words mean AND, the
German keywords UND, ODER, NICHT work too, in any case (search the word "not" itself as ``"not"``), and ``liefer*`` matches every word starting with "liefer".
Words match on lemmas (simplemma, the same lemmas the engine's driving terms use): the query's word in
every form it may take (as written, its German and its English lemma) against each word of the text in
its lemma for the text's language, so "Lieferung" finds "Lieferungen" and "kündigen" finds "gekündigt".

The parser reads outside input: every problem is a ``QuerySyntaxError`` with the 0-based character
position of the fault, never another exception. A query must name something that has to occur
(``NOT Spam`` alone would match nearly everything and is refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from resonanz.analysis.retrieval.text import LANGUAGES, lemma, raw_tokens

MAX_LENGTH = 2000
MAX_DEPTH = 30
_KEYWORDS = {"AND": "AND", "UND": "AND", "OR": "OR", "ODER": "OR", "NOT": "NOT", "NICHT": "NOT"}
_LEXEME = re.compile(r'\s+|\(|\)|"[^"]*"?|[^\s()"]+')


class QuerySyntaxError(ValueError):
    """A query that cannot be read; ``position`` is the 0-based character offset of the fault."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


# --- the tree -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Word:
    forms: frozenset[str]   # the word as written and its lemmas
    prefix: bool = False    # "liefer*"

    def matches(self, position_forms: frozenset[str]) -> bool:
        if self.prefix:
            return any(f.startswith(p) for f in position_forms for p in self.forms)
        return not self.forms.isdisjoint(position_forms)


@dataclass(frozen=True)
class Phrase:
    words: tuple[Word, ...]
    text: str


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Phrase | Not | And | Or


@lru_cache(maxsize=50_000)
def word_forms(token: str) -> frozenset[str]:
    return frozenset({token, *(lemma(token, lang) for lang in LANGUAGES)})


# --- parsing --------------------------------------------------------------------------------------------------

@dataclass
class _Tok:
    kind: str   # WORD, PHRASE, AND, OR, NOT, LPAREN, RPAREN
    text: str
    pos: int


def _lex(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _LEXEME.finditer(text):
        s, pos = m.group(), m.start()
        if s.isspace():
            continue
        if s == "(":
            out.append(_Tok("LPAREN", s, pos))
        elif s == ")":
            out.append(_Tok("RPAREN", s, pos))
        elif s.startswith('"'):
            if len(s) == 1 or not s.endswith('"'):
                raise QuerySyntaxError("The quotation mark is never closed.", pos)
            out.append(_Tok("PHRASE", s[1:-1], pos))
        elif s.upper() in _KEYWORDS:
            out.append(_Tok(_KEYWORDS[s.upper()], s, pos))
        else:
            out.append(_Tok("WORD", s, pos))
    return out


def _phrase(text: str, pos: int, *, quoted: bool) -> Phrase:
    prefix = not quoted and text.endswith("*")
    tokens = raw_tokens(text.rstrip("*") if prefix else text)
    if not tokens:
        what = "The quoted phrase" if quoted else f"“{text}”"
        raise QuerySyntaxError(f"{what} contains no letters or digits to search for.", pos)
    if prefix and (len(tokens) > 1 or len(tokens[0]) < 3):
        raise QuerySyntaxError("A word ending in * needs at least three letters before the *.", pos)
    words = tuple(Word(frozenset({t}) if prefix else word_forms(t), prefix) for t in tokens)
    return Phrase(words, text)


class _Parser:
    def __init__(self, tokens: list[_Tok], length: int) -> None:
        self.tokens, self.i, self.length, self.depth = tokens, 0, length, 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def where(self) -> int:
        tok = self.peek()
        return tok.pos if tok else self.length

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            if self.peek() is None or self.peek().kind in ("OR", "AND", "RPAREN"):
                raise QuerySyntaxError(f"{tok.text} needs a word or phrase after it.", self.where())
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_not()]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            if tok.kind == "AND":
                self.take()
                if self.peek() is None or self.peek().kind in ("OR", "AND", "RPAREN"):
                    raise QuerySyntaxError(f"{tok.text} needs a word or phrase after it.", self.where())
            children.append(self.parse_not())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_not(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "NOT":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", "RPAREN"):
                raise QuerySyntaxError(f"{tok.text} needs a word or phrase after it.", self.where())
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QuerySyntaxError("The query ends where a word or phrase was expected.", self.length)
        if tok.kind == "LPAREN":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QuerySyntaxError(f"Parentheses nest more than {MAX_DEPTH} deep.", tok.pos)
            if self.peek() is not None and self.peek().kind == "RPAREN":
                raise QuerySyntaxError("The parentheses are empty.", tok.pos)
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise QuerySyntaxError("This parenthesis is never closed.", tok.pos)
            self.take()
            self.depth -= 1
            return node
        if tok.kind == "RPAREN":
            raise QuerySyntaxError("This closing parenthesis has no opening one.", tok.pos)
        if tok.kind in ("AND", "OR"):
            raise QuerySyntaxError(f"{tok.text} needs a word or phrase before it.", tok.pos)
        self.take()
        return _phrase(tok.text, tok.pos, quoted=tok.kind == "PHRASE")


def _required(node: Node) -> bool:
    """Whether the node demands that something occurs (a query of only NOTs matches almost everything)."""
    if isinstance(node, Phrase):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_required(c) for c in node.children)
    return all(_required(c) for c in node.children)


def parse(text: str) -> Node:
    """The query's tree; raises QuerySyntaxError (with the position) for anything it cannot read."""
    if not isinstance(text, str):
        raise QuerySyntaxError("The query must be text.", 0)
    if len(text) > MAX_LENGTH:
        raise QuerySyntaxError(f"The query is longer than {MAX_LENGTH} characters.", MAX_LENGTH)
    if not text.strip():
        raise QuerySyntaxError("The query is empty: name at least one word or phrase.", 0)
    parser = _Parser(_lex(text), len(text))
    node = parser.parse_or()
    if parser.peek() is not None:  # only a stray ")" can stop the top level early
        raise QuerySyntaxError("This closing parenthesis has no opening one.", parser.peek().pos)
    if not _required(node):
        raise QuerySyntaxError("The query needs at least one word or phrase that must occur, not only NOT.", 0)
    return node


def words(node: Node) -> list[str]:
    """The phrases a query looks for (not those after NOT), as written: for highlighting and display."""
    if isinstance(node, Phrase):
        return [node.text]
    if isinstance(node, Not):
        return []
    return [w for c in node.children for w in words(c)]


# --- matching -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Document:
    """A text as the matcher sees it: per word position, the word and its lemma."""

    positions: tuple[frozenset[str], ...]
    vocabulary: frozenset[str]

    @classmethod
    def of(cls, text: str, language: str | None = None) -> Document:
        langs = (language,) if language in LANGUAGES else LANGUAGES
        positions = tuple(frozenset({t, *(lemma(t, lg) for lg in langs)}) for t in raw_tokens(text))
        return cls(positions, frozenset().union(*positions) if positions else frozenset())


def _phrase_in(phrase: Phrase, doc: Document) -> bool:
    first = phrase.words[0]
    if not first.prefix and first.forms.isdisjoint(doc.vocabulary):
        return False
    if len(phrase.words) == 1:
        return first.prefix is False or any(first.matches(p) for p in doc.positions)
    n = len(phrase.words)
    for i in range(len(doc.positions) - n + 1):
        if all(w.matches(doc.positions[i + k]) for k, w in enumerate(phrase.words)):
            return True
    return False


def matches(node: Node, doc: Document) -> bool:
    if isinstance(node, Phrase):
        return _phrase_in(node, doc)
    if isinstance(node, Not):
        return not matches(node.child, doc)
    if isinstance(node, And):
        return all(matches(c, doc) for c in node.children)
    return any(matches(c, doc) for c in node.children)


# --- many queries at once -------------------------------------------------------------------------------------

def anchors(node: Node) -> frozenset[str] | None:
    """Word forms of which at least one must be in a text for the query to match it (None: cannot tell)."""
    if isinstance(node, Phrase):
        exact = [w for w in node.words if not w.prefix]
        return min((w.forms for w in exact), key=len) if exact else None
    if isinstance(node, Not):
        return None
    parts = [anchors(c) for c in node.children]
    if isinstance(node, And):
        known = [p for p in parts if p is not None]
        return min(known, key=len) if known else None
    if any(p is None for p in parts):
        return None
    return frozenset().union(*parts)


class QueryIndex:
    """Many queries against one text: only the queries one of whose anchor forms occurs are evaluated, so the
    cost per text grows with the queries it may match, not with all queries (200 queries: about one each)."""

    def __init__(self, queries: list[tuple[int, Node]]) -> None:
        self.by_form: dict[str, list[tuple[int, Node]]] = {}
        self.always: list[tuple[int, Node]] = []
        for qid, node in queries:
            forms = anchors(node)
            if forms is None:
                self.always.append((qid, node))
            else:
                for f in forms:
                    self.by_form.setdefault(f, []).append((qid, node))

    def candidates(self, doc: Document) -> list[tuple[int, Node]]:
        seen: dict[int, Node] = {}
        for form in doc.vocabulary:
            for qid, node in self.by_form.get(form, ()):
                seen.setdefault(qid, node)
        for qid, node in self.always:
            seen.setdefault(qid, node)
        return list(seen.items())

    def matching(self, doc: Document) -> list[int]:
        return sorted(qid for qid, node in self.candidates(doc) if matches(node, doc))
