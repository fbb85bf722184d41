"""The label stage's two labeler modes (params `label.mode`), both returning valid taxonomy labels or a flag.

free   (the paper's prompt, prompts/label.txt): the labeler writes free-form intent labels; the label stage
       splits them (tasks.label.parse_labels) and normalises each through the synonym table. For capable models.
closed the model chooses among the 14 category names (taxonomy.yaml `en` names, or `zh` ones, `names:`
       en | zh | auto = the prompt's language). Works with any model:
       - a backend with token log-likelihoods (hf; LLM.loglik) ranks the names: score(name) =
         log P(name | text) - log P(name | text with an empty instruction) (`calibrate`, on by default: removes
         the model's prior for each name; `batch_calibrate` also subtracts each name's mean score over the
         chunk of up to 512 records labelled together: a label then depends on its chunk, deterministically),
         softmax over the 14 -> the best name plus every other name whose
         probability is >= `threshold` (at most `max_labels`). No text is generated: nothing to parse.
         `scoring: full` scores each whole name (LLM.loglik: 15 sequences per prompt, cached);
         `scoring: first_token` (hf only, ~15x cheaper: one forward per prompt, cached like loglik) scores
         the first token of each name from the next-token distribution after the text; it needs the 14 first
         tokens to differ (checked; else `full` is used).
         Which backends rank is `loglik` (see `_use_loglik`).
       - otherwise (openai by default, rules) the model answers prompts/label_closed.txt, which lists the names;
         only names or codes of the taxonomy are kept from the answer (tasks.label.closed_answer;
         anything else is a parse error).
Each result is (raw, error, scores): `raw` the labels as text (names joined by ", " in closed mode), `error`
the generation error or None, `scores` {code: probability} (closed log-likelihood mode) or None.
"""
from __future__ import annotations

import math

from stages import taxonomy
from stages.tasks.label import Label

MODES = ("free", "closed")
CONTEXT = "Instruction: {prompt}\n{listed}The safety risk category of this instruction is:"
CONTEXT_ZH = "指令：{prompt}\n{listed}这条指令的安全风险类别是："


class Labeler:
    def __init__(self, llm, params: dict, task: Label | None = None):
        self.llm, self.mode = llm, params.get("mode", "free")
        if self.mode not in MODES:
            raise ValueError(f"label.mode must be one of {MODES}, got {self.mode!r}")
        self.names = params.get("names", "en")
        if self.names not in ("en", "zh", "auto"):
            raise ValueError(f"label.names must be en, zh or auto, got {self.names!r}")
        self.threshold = float(params.get("threshold", 0.3))
        self.max_labels = int(params.get("max_labels", 3))
        self.calibrate = bool(params.get("calibrate", True))
        self.batch_calibrate = bool(params.get("batch_calibrate", False))
        self.max_chars = int(params.get("max_chars", 1000))
        self.list_names = bool(params.get("list_names", False))  # the 14 names also in the scored text
        self.task = task or Label(params.get("prompt", "prompts/label.txt"))
        self.closed_task = Label(params.get("closed_prompt", "prompts/label_closed.txt"), closed=True)
        self.use_loglik = self.mode == "closed" and _use_loglik(llm, params.get("loglik", "auto"))
        self.scoring = params.get("scoring", "full")
        if self.scoring not in ("full", "first_token"):
            raise ValueError(f"label.scoring must be full or first_token, got {self.scoring!r}")
        if self.scoring == "first_token" and not llm.backend.torch_model:
            self.scoring = "full"  # next-token distributions need the local model
        self._prior: dict[str, list[float]] = {}

    @property
    def how(self) -> str:
        if self.mode == "free":
            return "free"
        return f"closed_loglik_{self.scoring}" if self.use_loglik else "closed_generate"

    def label(self, rows: list[dict]) -> list[tuple[str | None, str | None, dict | None]]:
        if self.use_loglik:
            return self._rank(rows)
        task = self.task if self.mode == "free" else self.closed_task
        out = []
        for comps in self.llm.chat([task.render(r["prompt"]) for r in rows], task=task, n=1):
            c = comps[0]
            out.append((c.text if c.error is not None else task.raw(c.text), c.error, None))
        return out

    # ---- closed set by log-likelihood ----
    def _lang(self, row: dict) -> str:
        return row.get("lang", "en") if self.names == "auto" else self.names

    def _texts(self, prompt: str, lang: str) -> list[str]:
        listed = ""
        if self.list_names:
            listed = ("Categories: " if lang == "en" else "类别：") + ", ".join(
                taxonomy.CATEGORIES[c][lang] for c in taxonomy.CODES) + "\n"
        ctx = (CONTEXT_ZH if lang == "zh" else CONTEXT).format(prompt=prompt[: self.max_chars], listed=listed)
        return [ctx] + [f"{ctx} {taxonomy.CATEGORIES[c][lang]}" for c in taxonomy.CODES]

    def _logp(self, texts: list[str]) -> list[list[float]]:
        """Per group of 15 texts (context, context + each name): log P(name | context) for the 14 names."""
        if self.scoring == "first_token":
            got = self._first_token_logp(texts)
            if got is not None:
                return got
            self.scoring = "full"
        ll = self.llm.loglik(texts)
        out = []
        for i in range(0, len(ll), 1 + len(taxonomy.CODES)):
            ctx = ll[i]["nll_sum"]
            out.append([ctx - v["nll_sum"] for v in ll[i + 1: i + 1 + len(taxonomy.CODES)]])
        return out

    def _first_token_logp(self, texts: list[str]) -> list[list[float]] | None:
        """log P(first token of each name | context) from one forward per context; None when two names
        share a first token."""
        import torch

        n = 1 + len(taxonomy.CODES)
        ctx_ids, first = [], []
        for g in range(0, len(texts), n):
            ctx = self.llm.backend.encode_for_loglik(texts[g])
            heads = []
            for t in texts[g + 1:g + n]:
                ids = self.llm.backend.encode_for_loglik(t)
                if ids[:len(ctx)] != ctx or len(ids) == len(ctx):
                    return None  # the name merged into the context's last token
                heads.append(ids[len(ctx)])
            if len(set(heads)) < len(heads):
                return None
            ctx_ids.append(ctx)
            first.append(heads)

        def compute(idx: list[int]) -> list[list[float]]:
            model, tok = self.llm.backend.load()
            out: list[list[float]] = []
            bs = self.llm.backend.batch_size
            pad = tok.pad_token_id if tok.pad_token_id is not None else 0
            device = next(model.parameters()).device
            with torch.inference_mode():
                for s in range(0, len(idx), bs):
                    batch = [ctx_ids[i] for i in idx[s:s + bs]]
                    width = max(map(len, batch))
                    x = torch.tensor([[pad] * (width - len(b)) + b for b in batch], device=device)  # left pad
                    mask = torch.tensor([[0] * (width - len(b)) + [1] * len(b) for b in batch], device=device)
                    logits = model(input_ids=x, attention_mask=mask, logits_to_keep=1).logits[:, -1, :].float()
                    logp = torch.log_softmax(logits, dim=-1)
                    for r, i in enumerate(idx[s:s + bs]):
                        out.append([float(logp[r, h]) for h in first[i]])
            return out

        items = [(texts[g], {"kind": "first_token", "heads": h}) for g, h in zip(range(0, len(texts), n), first)]
        return self.llm.cached_scores(items, compute)

    def _rank(self, rows):
        langs = [self._lang(r) for r in rows]
        if self.calibrate:
            for lang in set(langs) - set(self._prior):
                self._prior[lang] = self._logp(self._texts("", lang))[0]
        texts = [t for r, lang in zip(rows, langs) for t in self._texts(r["prompt"], lang)]
        scores = self._logp(texts)
        if self.calibrate:
            scores = [[a - b for a, b in zip(logp, self._prior[lang])] for lang, logp in zip(langs, scores)]
        if self.batch_calibrate and scores:
            mean = [sum(col) / len(scores) for col in zip(*scores)]
            scores = [[a - m for a, m in zip(logp, mean)] for logp in scores]
        out = []
        for logp in scores:
            probs = softmax(logp)
            ranked = sorted(range(len(probs)), key=lambda i: -probs[i])
            keep = [ranked[0]] + [i for i in ranked[1:self.max_labels] if probs[i] >= self.threshold]
            raw = ", ".join(taxonomy.CATEGORIES[taxonomy.CODES[i]]["en"] for i in keep)
            out.append((raw, None, {c: round(p, 4) for c, p in zip(taxonomy.CODES, probs)}))
        return out


def softmax(xs: list[float]) -> list[float]:
    top = max(xs)
    exp = [math.exp(x - top) for x in xs]
    total = sum(exp)
    return [e / total for e in exp]


def _use_loglik(llm, setting) -> bool:
    """`label.loglik`: auto = rank by log-likelihood on local backends (hf, vllm), generate through API servers
    (most serve no prompt logprobs); true = rank on any backend that has them (e.g. a vLLM server via the
    openai backend's completions endpoint); false = always generate."""
    if setting not in ("auto", True, False):
        raise ValueError(f"label.loglik must be auto, true or false, got {setting!r}")
    return llm.backend.has_loglik() and (setting is True or (setting == "auto" and llm.backend.local))
