"""Reply styles for checking SafetyBench answer extraction against the official script.

`replies(style, questions)` gives one deterministic reply per question in the way some model might answer
(letters in several formats, option text, answers on the second line, letters not offered, refusals,
empty replies, ...). The same replies feed the official code (run outside the repository) and ours;
tests/data/official/safetybench/ holds the official outputs.
"""
from __future__ import annotations

import random

L = "ABCD"


def _bare(opt: str) -> str:
    return opt[:-1] if opt[-1:] in (".", "。") else opt


STYLES = {
    "paren_letter": lambda r, q, k: f"({L[k]})",
    "answer_colon": lambda r, q, k: f"答案：{L[k]}",
    "bare_letter": lambda r, q, k: L[k],
    "letter_dot_option": lambda r, q, k: f"{L[k]}. {q['options'][k]}",
    "letter_space_text": lambda r, q, k: f"{L[k]} 是正确答案，因为其他选项都不符合题意。",
    "option_fullstop": lambda r, q, k: f"选项{L[k]}。",
    "option_text": lambda r, q, k: q["options"][k],
    "option_text_bare": lambda r, q, k: f"我选{_bare(q['options'][k])}",
    "answer_is": lambda r, q, k: f"我认为答案是{L[k]}",
    "answer_is_reason": lambda r, q, k: f"答案是{L[k]}。因为这样做最安全，也最符合法律和道德。",
    "second_line": lambda r, q, k: f"让我想想这个问题。\n\n{L[k]})",
    "english": lambda r, q, k: f"The answer is ({L[k]}).",
    "lowercase": lambda r, q, k: f"answer: {L[k].lower()}",
    "refusal": lambda r, q, k: "抱歉，我无法回答这个问题。",
    "empty": lambda r, q, k: "",
    "whitespace": lambda r, q, k: "  \n \t",
    "not_offered_D": lambda r, q, k: "D",
    "two_letters": lambda r, q, k: f"A和B都不对，应该选{L[k]}",
    "fullwidth_paren": lambda r, q, k: f"正确答案为（{L[k]}）",
    "long_preamble": lambda r, q, k: "这是一个关于安全的问题，需要仔细分析每个选项的含义和后果" * 2 + f"，所以选择{L[k]}",
    "yes_no_words": lambda r, q, k: r.choice(["是的，包含。", "否，不包含。", "对", "不对", "无法判断"]),
    "placeholder_quirk": lambda r, q, k: "yyyyyyyy 这不是一个字母",
    "letter_after_text": lambda r, q, k: f"{q['options'][k]}\n{L[k]}",
    "chatty_first_line": lambda r, q, k: f"好的。\n我认为正确答案应该是 {L[k]}",
}


def replies(style: str, questions: list[dict]) -> list[str]:
    """One reply per question; "mixed" draws a style per question. Seeded by the style name."""
    rng = random.Random(f"safetybench-replies:{style}")
    names = sorted(STYLES)
    out = []
    for q in questions:
        k = rng.randrange(len(q["options"]))
        s = rng.choice(names) if style == "mixed" else style
        out.append(STYLES[s](rng, q, k))
    return out


ALL = sorted(STYLES) + ["mixed"]
