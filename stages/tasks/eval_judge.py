"""Task `eval_judge`: the New-Safety judge labels one (prompt, response) safe / unsafe / uncertain.

Fields: PROMPT, RESPONSE (fenced); template and verdict patterns from the eval task declaration
(stages/eval_tasks/newsafety.yaml: judge_template, verdicts). `parse`: the first verdict, in declaration
order, with a pattern in the judge's output, else `default` (uncertain). Rules answer: rules.verdict.
"""
from __future__ import annotations

import re

from stages.llm.rules import verdict
from stages.tasks.base import Task


class EvalJudge(Task):
    name = "eval_judge"
    template = "prompts/eval_judge.txt"
    untrusted = ("PROMPT", "RESPONSE")
    default: str | None = "uncertain"

    def __init__(self, template=None, verdicts: dict[str, list[str]] | None = None):
        super().__init__(template)
        self.verdicts = {k: [re.compile(p, re.I) for p in pats] for k, pats in (verdicts or {}).items()}

    def render(self, prompt: str, response: str) -> list[dict]:
        return self.fill({"PROMPT": prompt, "RESPONSE": response})

    def parse(self, text: str | None) -> str | None:
        text = text or ""
        return next((kind for kind, pats in self.verdicts.items() if any(p.search(text) for p in pats)), self.default)

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        return verdict(values.get("PROMPT", user), values.get("RESPONSE", ""))
