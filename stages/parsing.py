"""Parsers for model outputs. Each returns what it could recover plus an error flag; none raises.

Stages keep unparseable outputs (flagged, raw text kept) instead of dropping them.
Helpers may append parsers here (one function per output format).
"""
from __future__ import annotations

import re
import unicodedata

# Separators between free-form labels: commas, 、, semicolons, slashes, pipes, newlines.
_LABEL_SPLIT = re.compile(r"[,，、;；/|｜\n]+")
_BULLET = re.compile(r"^\s*(?:[-*•·]+|\(?\d{1,3}[.)、:：]|\d{1,3}\s|[（(]?[一二三四五六七八九十]+[)）、.])\s*")
_LABEL_PREFIX = re.compile(r"^\s*(?:labels?|tags?|intent(?: labels?| tags?)?|categor(?:y|ies)|output|标签|意图(?:标签)?|分类(?:标签)?|类别|输出)\s*[:：]\s*", re.IGNORECASE)
_QUOTES = " \t\"'`“”‘’「」『』【】[]()（）<>《》*#.。!！"
_WORDISH = re.compile(r"[^\W\d_]", re.UNICODE)


def _clean_label(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = _LABEL_PREFIX.sub("", _BULLET.sub("", text))
    return text.strip(_QUOTES).strip()


# A model echoing our fence markers ("<<<PROMPT 1a2b3c4d5e>>>", "PROMPT 1a2b3c", "END PROMPT ...").
_FENCE_ECHO = re.compile(r"<<<|>>>|^(END\s+)?[A-Z][A-Z0-9_]*\s+[0-9a-f]{5,16}\W*$")


def parse_labels(raw: str | None, max_labels: int = 8, max_len: int = 40) -> tuple[list[str], bool]:
    """Free-form labels from a labeler output -> (labels, parse_error).

    Splits on commas/、/newlines, strips bullets, numbering, 'Labels:' prefixes and quotes, drops
    duplicates. A piece longer than `max_len` characters (or over 6 words) is a sentence, not a
    label, and is ignored. No usable label at all (empty output, only sentences or symbols) is a
    parse error.
    """
    if not raw or not raw.strip():
        return [], True
    text = _LABEL_PREFIX.sub("", raw.strip())
    labels: list[str] = []
    for piece in _LABEL_SPLIT.split(text):
        label = _clean_label(piece)
        if not label or not _WORDISH.search(label) or _FENCE_ECHO.search(label):
            continue
        if len(label) > max_len or len(label.split()) > 6:
            continue
        if label.lower() not in (x.lower() for x in labels):
            labels.append(label)
        if len(labels) >= max_labels:
            break
    return labels, not labels


_LINE_PREFIX = re.compile(
    r"^\s*(?:[-*•·>]+|\(?\d{1,3}[.)、:：]|[（(]\d{1,3}[)）]|(?:Q|问题|Question|Prompt|指令)\s*\d*\s*[:：.、])\s*", re.IGNORECASE)
_INTRO = re.compile(r"^(?:here are|sure|okay|ok|以下是|好的|当然)[^\n]*[:：]\s*$", re.IGNORECASE)


def parse_lines(raw: str | None, min_chars: int = 4, max_chars: int = 500) -> list[str]:
    """New prompts from a generator output, one per line: numbering, bullets and quotes removed,
    introductions ('Here are ...:'), fence markers and lines outside [min_chars, max_chars] dropped."""
    out: list[str] = []
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line or _INTRO.match(line) or "<<<" in line or ">>>" in line:
            continue
        line = _LINE_PREFIX.sub("", line).strip().strip("\"'“”「」").strip()
        if min_chars <= len(line) <= max_chars and _WORDISH.search(line) and line not in out:
            out.append(line)
    return out


_ANALYSIS = re.compile(r"(?:^|\n)\s*[*#]*\s*(?:analysis|分析|风险分析|安全分析)\s*[*#]*\s*[:：]", re.IGNORECASE)
_ANSWER = re.compile(r"(?:^|\n)\s*[*#]*\s*(?:answer|response|回答|回复|答案)\s*[*#]*\s*[:：]", re.IGNORECASE)


def parse_analysis_answer(raw: str | None) -> tuple[str | None, str | None, bool]:
    """'Analysis: ... / Answer: ...' (or 分析：/回答：) -> (analysis, answer, parse_error).

    Without an answer marker, or with an empty answer, it is a parse error and the answer is the
    whole text (stripped); the analysis is None when it has no marker.
    """
    text = (raw or "").strip()
    if not text:
        return None, None, True
    answers = list(_ANSWER.finditer(text))
    analysis_m = _ANALYSIS.search(text)
    if not answers:
        return None, text, True
    ans_m = answers[-1] if analysis_m is None else next(
        (m for m in answers if m.start() >= analysis_m.end()), answers[-1])
    answer = text[ans_m.end():].strip()
    if analysis_m is not None and analysis_m.end() <= ans_m.start():
        analysis = text[analysis_m.end():ans_m.start()].strip() or None
    else:
        analysis = text[:ans_m.start()].strip() or None
    if not answer:
        return analysis, text, True
    return analysis, answer, False


# ---------------------------------------------------------------------------------------------
# score (paper 3.7): "[s1, s2]" pairwise response safety scores and a single instruction score.
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


def parse_response_scores(text: str | None):
    """The pairwise judge answer: ([s1, s2], None) or (None, reason)."""
    return parse_scores(text, 2)


def parse_instruction_score(text: str | None):
    """The instruction safety answer: (s, None) or (None, reason)."""
    values, err = parse_scores(text, 1)
    return (values[0], None) if values else (None, err)
