"""Words of a text query, for keyword search over OCR text and file and folder names."""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the this to was were with "
    "photo photos picture pictures image images".split()
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # as SQLite's unicode61 tokenizer splits: "_" separates words


def query_tokens(text: str) -> list[str]:
    """Lower-case, accent-free words of ``text`` worth matching (no stopwords, no single letters)."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return [w for w in dict.fromkeys(_WORD.findall(plain)) if len(w) > 1 and w not in STOPWORDS]
