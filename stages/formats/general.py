"""General-instruction sources: Alpaca and ShareGPT."""
from __future__ import annotations

from stages.io import InputError
from stages.schemas import native as N
from stages.source_io import iter_list
from stages.source_io import text_id as _id

_HUMAN, _BOT = {"human", "user"}, {"gpt", "assistant", "chatgpt", "bing", "bard"}


def alpaca(path):
    """Alpaca: JSON list (or JSONL) {instruction, input, output}; prompt = instruction + input."""
    for line, rec in iter_list(path):
        rec = N.ALPACA.check(rec, path, line)
        instr, extra = rec["instruction"], rec.get("input")
        prompt = f"{instr}\n\n{extra}" if extra and extra.strip() else instr
        yield line, _id(rec.get("id")), prompt, rec.get("output"), None, {}


def sharegpt(path):
    """ShareGPT: JSONL or JSON list {id?, conversations: [{from, value}]} (or messages: [{role, content}]);
    prompt = first human turn, response = the reply after it; the whole conversation stays in meta."""
    for line, rec in iter_list(path):
        rec = N.SHAREGPT.check(rec, path, line)
        key = "conversations" if "conversations" in rec or "messages" not in rec else "messages"
        turns = N.SHAREGPT_TURNS.check(rec, key, path, line)
        prompt = response = None
        for i, turn in enumerate(turns):
            if not isinstance(turn, dict):
                raise InputError(path, f"turn {i}: expected an object", line=line, field=key)
            who = turn.get("from", turn.get("role"))
            text = turn.get("value", turn.get("content"))
            if not isinstance(who, str) or not isinstance(text, str):
                raise InputError(path, f"turn {i}: expected string from/value", line=line, field=key)
            if prompt is None and who.lower() in _HUMAN:
                prompt = text
            elif prompt is not None and who.lower() in _BOT:
                response = text
                break
        if prompt is None:
            raise InputError(path, "no human turn", line=line, field=key)
        yield line, _id(rec.get("id")), prompt, response, None, {"conversations": turns}
