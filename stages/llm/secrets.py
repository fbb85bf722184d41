"""Masking of a secret (an API key) in any text a server may send back.

`Masker(key).mask(text)` replaces, with `***`:
- the key in every encoding a server may echo it in: raw, JSON-escaped (also with `\\/` for `/` and
  with `\\uXXXX` escapes), URL-encoded (`%2F`/`%2f`, `+` for space), HTML-escaped;
- any fragment of at least MIN_FRAGMENT characters of one of those forms, so a key cut by a server's
  (or anybody's) truncation, or split across a line, is masked too.
Mask before truncating: `mask(text)[:200]` never shows a partial key.
"""
from __future__ import annotations

import html
import json
import re
import urllib.parse

MIN_FRAGMENT = 8


def encodings(key: str) -> set[str]:
    """The forms of `key` that a server may echo."""
    js = json.dumps(key)[1:-1]
    forms = {key, js, js.replace("/", "\\/"), json.dumps(key, ensure_ascii=True)[1:-1],
             "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in key),
             urllib.parse.quote(key, safe=""), urllib.parse.quote_plus(key), urllib.parse.quote(key),
             html.escape(key), html.escape(key, quote=False)}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in set(forms)}
    return {f for f in forms if f}


class Masker:
    def __init__(self, secret: str | None, min_fragment: int = MIN_FRAGMENT):
        self.secret = secret or None
        self.forms = sorted(encodings(secret), key=len, reverse=True) if self.secret else []
        grams: dict[str, list[tuple[str, int]]] = {}
        for f in self.forms:
            n = min(min_fragment, len(f))
            for j in range(len(f) - n + 1):
                grams.setdefault(f[j:j + n], []).append((f, j))
        self.grams = grams
        self.pattern = re.compile("|".join(re.escape(g) for g in sorted(grams, key=len, reverse=True))) if grams else None

    def mask(self, text):
        """`text` with every form and fragment of the secret replaced by ***; non-strings pass through."""
        if not isinstance(text, str) or self.pattern is None or not text:
            return text
        spans = []
        for m in self.pattern.finditer(text):  # matches do not overlap: extend each to the longest fragment
            best = (m.start(), m.end())
            for form, j in self.grams.get(m.group(), ()):
                a, b, fa = m.start(), m.end(), j
                while a > 0 and fa > 0 and text[a - 1] == form[fa - 1]:
                    a, fa = a - 1, fa - 1
                fb = j + (m.end() - m.start())
                while b < len(text) and fb < len(form) and text[b] == form[fb]:
                    b, fb = b + 1, fb + 1
                if b - a > best[1] - best[0]:
                    best = (a, b)
            spans.append(best)
        if not spans:
            return text
        out, pos = [], 0
        for a, b in sorted(spans):
            if b <= pos:
                continue
            out.append(text[pos:max(a, pos)])
            out.append("***")
            pos = b
        out.append(text[pos:])
        return "".join(out)
