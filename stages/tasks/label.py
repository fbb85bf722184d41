"""Task `label` (paper 3.4): intent labels of one prompt. Two templates: free (prompts/label.txt, the
paper's free-form labels) and closed (prompts/label_closed.txt, names chosen from the 14 categories).

Fields: PROMPT (fenced), NAMES (trusted: the 14 English category names). Output: labels separated by
commas / 、 / newlines. `raw(text)` is the label text kept (closed: only taxonomy names or codes, joined by
", "; '' when none); `parse(raw)` splits it into labels. Rules answer: the category names (in the prompt's
language) whose taxonomy keywords or HARM_TERMS occur in the prompt, else 无明显风险 / no obvious risk.
"""
from __future__ import annotations

import re
import unicodedata

from stages import taxonomy
from stages.llm.rules import label_codes
from stages.tasks.base import Task
from stages.text import detect_lang as lang

# Separators between free-form labels: commas, 、, semicolons, slashes, pipes, newlines.
_LABEL_SPLIT = re.compile(r"[,，、;；/|｜\n]+")
_BULLET = re.compile(r"^\s*(?:[-*•·]+|\(?\d{1,3}[.)、:：]|\d{1,3}\s|[（(]?[一二三四五六七八九十]+[)）、.])\s*")
_LABEL_PREFIX = re.compile(r"^\s*(?:labels?|tags?|intent(?: labels?| tags?)?|categor(?:y|ies)|output|标签|意图(?:标签)?|分类(?:标签)?|类别|输出)\s*[:：]\s*", re.IGNORECASE)
_QUOTES = " \t\"'`“”‘’「」『』【】[]()（）<>《》*#.。!！"
_WORDISH = re.compile(r"[^\W\d_]", re.UNICODE)
# A model echoing our fence markers ("<<<PROMPT 1a2b3c4d5e>>>", "PROMPT 1a2b3c", "END PROMPT ...").
_FENCE_ECHO = re.compile(r"<<<|>>>|^(END\s+)?[A-Z][A-Z0-9_]*\s+[0-9a-f]{5,16}\W*$")


class Label(Task):
    name = "label"
    template = "prompts/label.txt"
    untrusted = ("PROMPT",)
    trusted = ("NAMES",)

    def __init__(self, template=None, closed: bool = False):
        super().__init__(template or ("prompts/label_closed.txt" if closed else None))
        self.closed = closed

    def render(self, prompt: str) -> list[dict]:
        names = ", ".join(taxonomy.CATEGORIES[c]["en"] for c in taxonomy.CODES)
        return self.fill({"PROMPT": prompt}, {"NAMES": names})

    def raw(self, text: str | None) -> str | None:
        """The label text kept from a model answer (closed: taxonomy names only)."""
        return closed_answer(text) if self.closed else text

    def parse(self, raw: str | None) -> tuple[list[str], bool]:
        return parse_labels(raw)

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        return ", ".join(rules_labels(values.get("PROMPT", user)))


def rules_labels(prompt: str) -> list[str]:
    lg = lang(prompt)
    out = [taxonomy.CATEGORIES[code][lg] for code in label_codes(prompt)]
    return out or (["无明显风险"] if lg == "zh" else ["no obvious risk"])


def _clean_label(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = _LABEL_PREFIX.sub("", _BULLET.sub("", text))
    return text.strip(_QUOTES).strip()


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


def closed_answer(text: str | None) -> str:
    """The taxonomy names in a closed-set answer, as 'Name, Name' ('' when there is none: a parse error)."""
    labels, _ = parse_labels(text)
    codes = []
    for label in labels:
        code = taxonomy.normalize_label(label)
        key = label.strip().upper()
        code = key if key in taxonomy.CODES else code if _is_name(label, code) else None
        if code and code not in codes:
            codes.append(code)
    return ", ".join(taxonomy.CATEGORIES[c]["en"] for c in codes)


def _is_name(label: str, code: str | None) -> bool:
    """The label is the category's name (en or zh), not just a text that happens to contain a synonym."""
    if code is None:
        return False
    k = taxonomy._key(label)
    return k in (taxonomy._key(taxonomy.CATEGORIES[code]["en"]), taxonomy._key(taxonomy.CATEGORIES[code]["zh"]))
