"""Search terms for Chinese and English text, independent of the database's locale and parsers.

Chinese is written without spaces between words, so the directory indexes every CJK character (unigram) and
every pair of neighbouring CJK characters (bigram); a query's CJK run of two or more characters must match all
of its bigrams, which finds the run wherever it occurs as a substring. Other scripts are split into lower-cased
words (after NFKC, so full-width letters and digits count as their ASCII forms); a query word matches words that
start with it. The terms are stored verbatim with ``array_to_tsvector`` and queried with a ``tsquery`` built
here, so no text search parser, dictionary or collation of the server takes part (no pg_trgm, no zhparser).

Relevance comes in tiers: first resources whose whole name, directory code or id equals the query (marked by
``exact=`` terms), then those whose name (or id) holds every query term (marked by ``name:`` terms), then every other
match (summary, fields). Text never yields such terms (no ``=`` or ``:``). The index finds the matches with one
``tsquery``; a match's tier comes from two small ``tsquery`` texts over its ``naming`` terms (its ``name:`` and
``exact=`` terms, which the database keeps in a generated column in the row), so ranking never reads the large,
mostly out-of-line search terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: CJK ideographs (unified, extension A, compatibility, supplementary planes), kana and hangul syllables.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
_RUN = re.compile(rf"([{_CJK}]+)|((?:(?![{_CJK}])[^\W_])+)")
#: Longer words are cut: a tsvector lexeme is limited to 2 KiB, and nobody searches by such words.
MAX_WORD = 64
#: Terms of one query beyond this are dropped (a pasted paragraph must not become a giant tsquery).
MAX_QUERY_TERMS = 32
#: Exact-match terms hold at most this many characters (names are at most 200; a lexeme at most 2 KiB).
MAX_EXACT = 300
#: The relevance tiers, best first.
TIERS = ("exact", "name", "text")


def _runs(text: str) -> Iterable[tuple[bool, str]]:
    """``(is_cjk, run)`` pairs of ``text``, normalised and lower-cased."""
    for match in _RUN.finditer(unicodedata.normalize("NFKC", text).lower()):
        cjk, word = match.groups()
        yield (True, cjk) if cjk else (False, word[:MAX_WORD])


def _bigrams(run: str) -> list[str]:
    return [run[index : index + 2] for index in range(len(run) - 1)]


def document_terms(*texts: str | None) -> list[str]:
    """The sorted, distinct terms indexing ``texts``: CJK unigrams and bigrams, and words."""
    terms: set[str] = set()
    for text in texts:
        if not text:
            continue
        for cjk, run in _runs(text):
            if cjk:
                terms.update(run)
                terms.update(_bigrams(run))
            else:
                terms.add(run)
    return sorted(terms)


def query_terms(text: str) -> list[tuple[str, bool]]:
    """The ``(term, prefix)`` pairs a query must all match, in order of appearance, without repeats."""
    found: dict[tuple[str, bool], None] = {}
    for cjk, run in _runs(text):
        if cjk:
            for term in _bigrams(run) if len(run) > 1 else [run]:
                found.setdefault((term, False))
        else:
            found.setdefault((run, True))
    return list(found)[:MAX_QUERY_TERMS]


def matches(document: Iterable[str], query: Iterable[tuple[str, bool]]) -> bool:
    """Whether a document's terms satisfy a query's terms (what the ``tsquery`` means, in Python)."""
    terms = set(document)
    return all(
        any(candidate.startswith(term) for candidate in terms) if prefix else term in terms for term, prefix in query
    )


def attribute_term(name: str, value: str) -> str:
    """The term that marks a resource's attribute (``status=published``); text never yields one (no ``=``)."""
    return f"{name}={value}"


def exact_term(text: str) -> str:
    """The term that marks a whole name, code or id (normalised: NFKC, lower case, single spaces)."""
    return "exact=" + " ".join(unicodedata.normalize("NFKC", text).lower().split())[:MAX_EXACT]


def name_term(term: str) -> str:
    """The term that marks a text term of a resource's name (or id)."""
    return f"name:{term}"


def resource_terms(
    *,
    resource_id: str,
    code: str,
    name: str,
    summary: str,
    fields: Iterable[tuple[str, str]],
    attributes: dict[str, str],
    elements: Iterable[str],
) -> list[str]:
    """Every term of a resource: its text (id, code, name, summary, fields), name and exact terms, and attributes.

    Attribute terms let the text index itself apply the filters, so a filtered text search touches only the
    rows that match all of it.
    """
    field_texts = [text for field in fields for text in field]
    naming = document_terms(resource_id.replace(".", " "), name)
    terms = set(document_terms(code, summary, *field_texts)) | set(naming)
    terms.update(name_term(term) for term in naming)
    terms.update(exact_term(value) for value in (name, code, resource_id))
    terms.update(attribute_term(key, value) for key, value in attributes.items())
    terms.update(attribute_term("element", element) for element in elements)
    return sorted(terms)


def to_tsquery(
    query: list[tuple[str, bool]], *, required: Iterable[str] = (), any_of: Iterable[str] = ()
) -> str | None:
    """The ``tsquery`` text for query terms (every term required), or ``None`` when there are none.

    ``required`` terms are added as they are, and one of ``any_of`` (when given) must match too.
    """
    if not query:
        return None
    clauses = [_quoted(term) + (":*" if prefix else "") for term, prefix in query]
    clauses.extend(_quoted(term) for term in required)
    alternatives = [_quoted(term) for term in any_of]
    if alternatives:
        clauses.append("(" + " | ".join(alternatives) + ")")
    return " & ".join(clauses)


def tier_queries(text: str) -> tuple[str, str] | None:
    """The ``tsquery`` texts that place a match of ``text`` in its tier (see :data:`TIERS`), or ``None`` without terms.

    Over a match's ``naming`` terms: the first holds for the exact tier, else the second for the name tier, else the
    match is in the text tier. A match holds every query term, so an exact name, code or id holds them all, and the
    tiers are disjoint and cover every match.
    """
    query = query_terms(text)
    if not query:
        return None
    named = " & ".join(_quoted(name_term(term)) + (":*" if prefix else "") for term, prefix in query)
    return _quoted(exact_term(text)), named


def _quoted(term: str) -> str:
    # tsquery input syntax: a quoted lexeme is taken verbatim; quotes are doubled and backslashes escaped.
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
