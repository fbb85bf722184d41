"""Output parsers shared by several LLM tasks (a task's own parser lives in its module, stages/tasks/).
Each returns what it could recover plus an error flag or reason; none raises. Stages keep unparseable
outputs (flagged, raw text kept) instead of dropping them.
"""
from __future__ import annotations

import re
import unicodedata

# ---------------------------------------------------------------------------------------------
# scores (tasks score_response, score_instruction): "[s1, s2]" pairwise scores and a single score.
# These return (value, reason): value is None exactly when reason is set. Never clip, never default.
# ---------------------------------------------------------------------------------------------

# Characters NFKC leaves alone but that models use as list punctuation in Chinese answers.
_ZH_PUNCT = str.maketrans({"、": ",", "，": ",", "【": "[", "】": "]", "〔": "[", "〕": "]",
                           "「": " ", "」": " ", "。": " ", "：": ":", "；": ";"})
# Labels that carry a digit of their own ("output1", "回复 2") must not be read as scores.
_SCORE_LABEL = re.compile(r"(?i)(?:output|response|answer|回复|回答|输出|响应|答案)\s*[_#-]?\s*[12](?![\d.])")
# A standalone number: not glued to letters/digits on the left, not followed by more digits or letters.
_NUM = re.compile(r"(?<![A-Za-z0-9_.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]|\.?\d)")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_CODE_FENCE = re.compile(r"```[A-Za-z]*")


def _normalize_scores(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_ZH_PUNCT)
    text = _CODE_FENCE.sub(" ", text)
    return _SCORE_LABEL.sub(" ", text)


def _loose_runs(text: str, count: int) -> set[tuple[str, ...]]:
    """Runs of exactly `count` numbers separated only by spaces/commas/semicolons (a list without brackets)."""
    runs, cur, last_end = set(), [], None
    for m in _NUM.finditer(text):
        if cur and re.fullmatch(r"[\s,;]+", text[last_end:m.start()]):
            cur.append(m.group())
        else:
            if len(cur) == count:
                runs.add(tuple(cur))
            cur = [m.group()]
        last_end = m.end()
    if len(cur) == count:
        runs.add(tuple(cur))
    return runs


def parse_scores(text: str | None, count: int, low: float = 0.0, high: float = 1.0):
    """Exactly `count` numbers in [low, high] from a model answer -> (list[float], None) or (None, reason).

    Accepts `[0.9, 0.2]`, `0.9, 0.2`, fenced ```json blocks, words around the numbers and Chinese
    punctuation. A single bracketed list wins over loose numbers (so "scores (0 to 1): [0.9, 0.2]"
    parses); without one, all standalone numbers count. Two different candidate lists (bracketed, or a
    bracketed one and a run of `count` loose numbers, e.g. an echoed "[1.0, 1.0]" and "0.1, 0.2") are
    ambiguous and rejected, never picked from. Out-of-range values are rejected, never clipped.
    """
    if text is None or not str(text).strip():
        return None, "empty output"
    norm = _normalize_scores(str(text))
    lists = {tuple(_NUM.findall(m.group(1))) for m in _BRACKET.finditer(norm)}
    lists = {lst for lst in lists if lst}
    if lists and count > 1:  # an echoed "[1.0, 1.0]" next to the model's own "0.1, 0.2" is two candidates
        lists |= _loose_runs(_BRACKET.sub(" | ", norm), count)
    if len(lists) > 1:
        return None, f"ambiguous: {len(lists)} different score lists"
    tokens = list(lists.pop()) if lists else _NUM.findall(norm)
    if not tokens:
        return None, "no number found"
    if len(tokens) != count:
        return None, f"expected {count} score(s), found {len(tokens)}"
    values = [float(t) for t in tokens]
    bad = [v for v in values if not (low <= v <= high)]
    if bad:
        return None, f"score(s) out of [{low:g}, {high:g}]: {bad}"
    return values, None
