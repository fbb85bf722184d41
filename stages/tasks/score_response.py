"""Task `score_response` (paper 3.7): the judge rates two responses to one prompt, pairwise.

Fields: PROMPT, OUTPUT1, OUTPUT2 (all fenced); template prompts/score_response.txt. Output: `[s1, s2]`
in [0, 1] (`parse` -> ([s1, s2], None) or (None, reason); parsing.parse_scores). Rules answer: each
output's rules.response_score (refusal and guidance raise it, compliance and harm terms lower it).
"""
from __future__ import annotations

from stages.llm.rules import response_score
from stages.parsing import parse_scores
from stages.tasks.base import Task


class ScoreResponse(Task):
    name = "score_response"
    template = "prompts/score_response.txt"
    untrusted = ("PROMPT", "OUTPUT1", "OUTPUT2")

    def render(self, prompt: str, output1: str, output2: str) -> list[dict]:
        return self.fill({"PROMPT": prompt, "OUTPUT1": output1, "OUTPUT2": output2})

    def parse(self, text: str | None):
        return parse_scores(text, 2)

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        prompt = values.get("PROMPT", user)
        return f"[{response_score(prompt, values.get('OUTPUT1', ''))}, {response_score(prompt, values.get('OUTPUT2', ''))}]"
