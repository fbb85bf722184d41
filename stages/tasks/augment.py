"""Tasks `augment_keywords` and `augment_related` (paper 3.5): the attacker writes new prompts of a category.

keywords (prompts/augment_keywords.txt): EXAMPLES (fenced, one example prompt per line) + the category's
theme keywords -> new prompts; related (prompts/augment_related.txt): PROMPT (fenced) -> related questions.
Trusted fields of both: category_name, category_zh, definition, keywords, k (how many), language.
Output: one new prompt per line (`parse`). Rules answer: two templated rephrasings of each example / of
the prompt, in its language.
"""
from __future__ import annotations

import re

from stages.tasks.base import Task
from stages.text import detect_lang as lang, tokens

TRUSTED = ("category_name", "category_zh", "definition", "keywords", "k", "language")
_WORDISH = re.compile(r"[^\W\d_]", re.UNICODE)
_LINE_PREFIX = re.compile(
    r"^\s*(?:[-*•·>]+|\(?\d{1,3}[.)、:：]|[（(]\d{1,3}[)）]|(?:Q|问题|Question|Prompt|指令)\s*\d*\s*[:：.、])\s*", re.IGNORECASE)
# not a prompt: fence markers or their tag (16 hex digits, a letter among them) echoed, markdown bold, a line
# ending with a colon ('Here are ...:', '内容：**提议:**'); an all-digit run (an ID or phone number) is kept.
# _LABEL: labels echoed from the request
_NOT_PROMPT = re.compile(r"<<|>>|(?=[0-9]*[a-f])[0-9a-f]{12,}|\*\*|[:：]\s*$", re.IGNORECASE)
_LABEL = re.compile(r"^(?:examples?|premise|warning|note|safety scenario|"
                    r"theme keywords?|示例|例子|例如|前提|注意|警告|内容)\b\s*\d*\s*(?:[:：]|$)", re.IGNORECASE)


class AugmentKeywords(Task):
    name = "augment_keywords"
    template = "prompts/augment_keywords.txt"
    untrusted = ("EXAMPLES",)
    trusted = TRUSTED

    def render(self, examples: list[str], **trusted: str) -> list[dict]:
        return self.fill({"EXAMPLES": "\n".join(examples)}, trusted)

    def parse(self, text: str | None) -> list[str]:
        return parse_lines(text)

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        return rephrasings(values.get("EXAMPLES", user).splitlines())


class AugmentRelated(AugmentKeywords):
    name = "augment_related"
    template = "prompts/augment_related.txt"
    untrusted = ("PROMPT",)

    def render(self, prompt: str, **trusted: str) -> list[dict]:
        return self.fill({"PROMPT": prompt}, trusted)

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        return rephrasings([values.get("PROMPT", user)])


def rephrasings(texts: list[str]) -> str:
    out = []
    for t in texts:
        t = " ".join(t.split())
        if not t:
            continue
        if lang(t) == "zh":
            out += [f"请详细说明：{t}", f"换个角度问：{t}"]
        else:
            out += [f"Please explain in detail: {t}", f"Asked differently: {t}"]
    return "\n".join(out)


def parse_lines(raw: str | None, min_chars: int = 4, max_chars: int = 500, min_tokens: int = 3) -> list[str]:
    """New prompts from a generator output, one per line: numbering, bullets and quotes removed. Dropped:
    introductions and headings (a line ending with a colon: 'Here are ...:'; markdown bold), lines with
    fence markers or a fence tag, labels echoed from the request ('Example 1', 'Premise: ...', 'WARNING'),
    lines outside [min_chars, max_chars] characters or with fewer than `min_tokens` tokens
    (stages.text.tokens: a CJK character or a word each; 'Ways to')."""
    out: list[str] = []
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line or _NOT_PROMPT.search(line):
            continue
        line = _LINE_PREFIX.sub("", line).strip().strip("\"'“”「」").strip()
        if _LABEL.match(line) or len(tokens(line)) < min_tokens:
            continue
        if min_chars <= len(line) <= max_chars and _WORDISH.search(line) and line not in out:
            out.append(line)
    return out
