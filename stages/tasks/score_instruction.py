"""Task `score_instruction` (paper 3.7): the judge rates the safety of a prompt itself (1 = safe).

Field: PROMPT (fenced); template prompts/score_instruction.txt. Output: one number in [0, 1] (`parse` ->
(s, None) or (None, reason)). Rules answer: 1 - rules.instruction_score (harm-signal density).
"""
from __future__ import annotations

from stages.llm.rules import instruction_score
from stages.parsing import parse_scores
from stages.tasks.base import Task


class ScoreInstruction(Task):
    name = "score_instruction"
    template = "prompts/score_instruction.txt"
    untrusted = ("PROMPT",)

    def render(self, prompt: str) -> list[dict]:
        return self.fill({"PROMPT": prompt})

    def parse(self, text: str | None):
        values, err = parse_scores(text, 1)
        return (values[0], None) if values else (None, err)

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        return str(round(1.0 - instruction_score(values.get("PROMPT", user)), 2))
