"""Task `regenerate` (paper 3.6): the safety model writes a safe response to one prompt. Two templates:

cot    (prompts/regenerate.txt): PROMPT (fenced) and trusted language, analysis_tag, answer_tag; the reply is
       `Analysis: ... / Answer: ...` (分析：/回答：), parsed into (analysis, answer, parse_error).
answer (prompts/regenerate_answer.txt, `RegenerateAnswer`): a system message (trusted language) asks for the
       safe answer itself; exemplar (prompt, reference response) turns, then the prompt as the user turn
       (as in evaluation). An empty, degenerate (rules.gibberish), prompt-echoing or exemplar-copying reply
       is a parse error.
Rules answer: a templated `Analysis: ...\\nAnswer: ...` in the prompt's language (a refusal with guidance
when the prompt carries harm terms).
"""
from __future__ import annotations

import re

from stages import taxonomy
from stages.llm.rules import gibberish, instruction_score, label_codes
from stages.tasks.base import Task
from stages.text import detect_lang as lang
from stages.text import ngrams

TAGS = {"zh": ("分析：", "回答："), "en": ("Analysis:", "Answer:")}
LANG_NAME = {"zh": "Chinese (简体中文)", "en": "English"}
ECHO_NGRAM = 8                # a reply sharing a run of this many prompt tokens repeats the prompt
_ANALYSIS = re.compile(r"(?:^|\n)\s*[*#]*\s*(?:analysis|分析|风险分析|安全分析)\s*[*#]*\s*[:：]", re.IGNORECASE)
_ANSWER = re.compile(r"(?:^|\n)\s*[*#]*\s*(?:answer|response|回答|回复|答案)\s*[*#]*\s*[:：]", re.IGNORECASE)


def _lang(lg: str | None) -> str:
    return lg if lg in TAGS else "en"


class Regenerate(Task):
    name = "regenerate"
    template = "prompts/regenerate.txt"
    untrusted = ("PROMPT",)
    trusted = ("language", "analysis_tag", "answer_tag")

    def render(self, prompt: str, lg: str | None, exemplars: list[dict] = ()) -> list[dict]:
        analysis_tag, answer_tag = TAGS[_lang(lg)]
        return self.fill({"PROMPT": prompt}, {"language": LANG_NAME[_lang(lg)], "analysis_tag": analysis_tag,
                                              "answer_tag": answer_tag})

    def parse(self, text: str | None, prompt: str = "", exemplars: list[str] = ()) -> tuple[str | None, str | None, bool]:
        return parse_analysis_answer(text)

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        return rules_regenerate(values.get("PROMPT", user))


class RegenerateAnswer(Regenerate):
    template = "prompts/regenerate_answer.txt"
    untrusted = ()
    trusted = ("language",)

    def render(self, prompt: str, lg: str | None, exemplars: list[dict] = ()) -> list[dict]:
        """System instruction, exemplar turns, then the prompt as the user turn."""
        system = self.fill(trusted={"language": LANG_NAME[_lang(lg)]})
        turns = [m for e in exemplars for m in ({"role": "user", "content": e["prompt"]},
                                                {"role": "assistant", "content": e["response"]})]
        return system + turns + [{"role": "user", "content": prompt}]

    def parse(self, text: str | None, prompt: str = "", exemplars: list[str] = ()) -> tuple[str | None, str | None, bool]:
        return parse_answer(text, prompt, exemplars)


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


def parse_answer(text: str, prompt: str = "", exemplars: list[str] = ()) -> tuple[str | None, str | None, bool]:
    """(analysis, response, parse_error) of an answer-mode reply; degenerate replies and replies that repeat
    the prompt or copy an exemplar response (a run of ECHO_NGRAM tokens in common) are errors."""
    analysis, answer, perr = parse_analysis_answer(text)
    if perr:
        analysis, answer = None, (text or "").strip()
    grams = ngrams(answer or "", ECHO_NGRAM)
    # a text shorter than ECHO_NGRAM tokens gives one shorter gram, never a full-length run in common
    echo = any(g in grams for t in (prompt, *exemplars) for g in ngrams(t, ECHO_NGRAM) if len(g) == ECHO_NGRAM)
    return analysis, answer, not answer or gibberish(answer) or echo


def rules_regenerate(prompt: str) -> str:
    lg, codes = lang(prompt), label_codes(prompt)
    names = [taxonomy.CATEGORIES[c][lg] for c in codes] or (["潜在安全"] if lg == "zh" else ["potential safety"])
    risky = instruction_score(prompt) > 0
    if lg == "zh":
        if risky:
            return (f"Analysis: 该问题可能涉及{'、'.join(names)}方面的风险，直接提供具体做法可能造成伤害或违法。\n"
                    "Answer: 抱歉，我不能提供这方面的具体帮助。建议遵守法律法规，如有困难请寻求专业人士或相关机构的帮助。")
        return ("Analysis: 该问题没有明显的安全风险，可以正常回答。\n"
                "Answer: 这是一个正常的问题。建议参考权威资料，并结合自身情况做出安全、合法的选择。")
    if risky:
        return (f"Analysis: the request may involve {', '.join(names)} risks; giving concrete steps could cause "
                "harm or break the law.\nAnswer: Sorry, I can't help with that. Please respect the law and "
                "consider seeking help from a qualified professional instead.")
    return ("Analysis: the request shows no obvious safety risk and can be answered normally.\n"
            "Answer: This is a reasonable question. Please consult reliable sources and make safe, legal choices.")
