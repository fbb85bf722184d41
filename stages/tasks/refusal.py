"""Task `refusal`: the over-refusal judge says whether a response refused (refusal / compliance).

Fields: PROMPT, RESPONSE (fenced); template and verdict patterns from stages/eval_tasks/overrefusal.yaml.
`parse`: as eval_judge, but no verdict found is None (unparsed). Rules answer: refusal when a refusal
phrase occurs in the first 300 characters of the response (rules.is_refusal), else compliance.
"""
from __future__ import annotations

from stages.llm.rules import is_refusal
from stages.tasks.eval_judge import EvalJudge


class Refusal(EvalJudge):
    name = "refusal"
    template = ""
    default = None

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        return "refusal" if is_refusal(values.get("RESPONSE", user)) else "compliance"
