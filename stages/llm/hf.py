"""Local transformers backend: batched generation and token log-likelihoods.

Role options: model (local HF directory or hub id), dtype (float32 default | bfloat16 | float16 | auto:
bfloat16 where the hardware computes it natively (CPU flags avx512_bf16 / amx_bf16, or a CUDA GPU
with bf16), else float32; bf16 decodes ~2x faster on such CPUs but greedy texts differ from fp32),
batch_size (default 16), device (default: cuda when available, else cpu), max_batch_tokens (loglik
padding budget per batch, default 8192), chat_template (default true; false: a conversation's single user
message is sent raw, tokenized with the tokenizer's special tokens, e.g. BOS, as plain `tokenizer(text)`
does; the cache id gets "+raw", so raw and templated completions never share cache entries).

- Untrusted text never becomes control tokens: message contents (generation, `encode_chat`) and loglik
  texts are tokenized with `split_special_tokens=True`; only the chat template's own markup is parsed.
- Generation: conversations are rendered with the tokenizer's chat template, sorted by length and
  batched with LEFT padding; greedy when temperature == 0, else sampling seeded from
  (seed, sample_index, the prompt's token ids), so a prompt's sample does not depend on the batch.
  Stops at the tokenizer's and generation_config's eos ids.
- loglik: texts (with BOS prepended when the tokenizer has one) are batched by length with RIGHT
  padding; the fp32 sum of token NLLs over every predicted text token (the first token has no
  prediction, so with BOS all text tokens count). Batched values match one-at-a-time values to
  float32 rounding.
- choice_logprobs: per prompt, log P(choice | prompt) of each short choice string ("A".."D"): the
  choice's tokens (encoded on their own) appended to the prompt's loglik encoding, summed over the
  choice tokens. One forward per distinct prefix (single-token choices share one), LEFT padding with
  explicit position ids, logits kept for the last positions only; a prompt longer than the model's
  context loses its start. Model and inputs on `device`.
- The model loads lazily on first use, so a fully cached run never loads it. `cache_id` adds a
  fingerprint of the weights/tokenizer files, so retrained weights at the same path miss the cache.
"""
from __future__ import annotations

import hashlib
import math
import re
import sys
import time
from pathlib import Path

from stages.llm.base import Backend, Completion

DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
          "float16": "float16", "fp16": "float16", "auto": "auto"}


def native_bf16(device: str | None) -> bool:
    """True when `device` (None: cuda if available, else cpu) computes bfloat16 natively."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda"):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def fingerprint(path: str | Path) -> str | None:
    """Short hash of a local model directory (small files fully, big ones by size + head + tail)."""
    path = Path(path)
    if not path.is_dir():
        return None
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        size = f.stat().st_size
        h.update(f"{f.relative_to(path)}:{size}\n".encode())
        with open(f, "rb") as fh:
            if size <= 8 << 20:
                h.update(fh.read())
            else:
                h.update(fh.read(4 << 20))
                fh.seek(size - (4 << 20))
                h.update(fh.read())
    return h.hexdigest()[:16]


class HFBackend(Backend):
    name = "hf"
    local = True
    torch_model = True

    def __init__(self, model: str, dtype: str = "float32", batch_size: int = 16, device: str | None = None,
                 max_batch_tokens: int = 8192, chat_template: bool = True):
        super().__init__(model)
        if str(dtype) not in DTYPES:
            raise ValueError(f"hf backend: dtype {dtype!r} not in {sorted(DTYPES)}")
        self.dtype, self.batch_size = DTYPES[str(dtype)], max(1, int(batch_size))
        self.device, self.max_batch_tokens = device, int(max_batch_tokens)
        if self.dtype == "auto":
            self.dtype = "bfloat16" if native_bf16(device) else "float32"
        fp = fingerprint(model)
        self.cache_id = f"{model}@{fp}" if fp else model
        self.chat_template = bool(chat_template)
        if not self.chat_template:
            self.cache_id += "+raw"
        if self.dtype != "float32":  # outputs depend on the precision (fp32 keys stay as they were)
            self.cache_id += f"#{self.dtype}"
        self._model = self._tok = None

    # ---- loading ----
    def load(self):
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self.device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            tok = AutoTokenizer.from_pretrained(self.model)
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token
            model = AutoModelForCausalLM.from_pretrained(self.model, dtype=getattr(torch, self.dtype))
            self._model, self._tok = model.to(self.device).eval(), tok
        return self._model, self._tok

    def eos_ids(self) -> list[int]:
        model, tok = self.load()
        ids = [tok.eos_token_id]
        g = model.generation_config.eos_token_id
        ids += g if isinstance(g, list) else [g]
        return sorted({int(i) for i in ids if i is not None})

    def _progress(self, total: int, desc: str):
        from tqdm import tqdm
        return tqdm(total=total, desc=desc, unit="item", file=sys.stderr, dynamic_ncols=True)

    # ---- generation ----
    def generate(self, conversations, gen, task, sample_index=0):
        import torch

        from stages.llm.hf_decode import decode

        model, tok = self.load()
        ids = [self.encode_prompt(c) for c in conversations]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        eos = set(self.eos_ids())
        out: list[Completion | None] = [None] * len(ids)
        n_out, t0 = 0, time.monotonic()
        with self._progress(len(ids), f"{self.label} {task} s{sample_index}") as bar, torch.inference_mode():
            def done(i: int, toks: list[int]) -> None:
                nonlocal n_out
                cut = next((k for k, t in enumerate(toks) if t in eos), len(toks))
                comp = Completion(tok.decode(toks[:cut], skip_special_tokens=True),
                                  tokens_in=len(ids[i]), tokens_out=len(toks),
                                  meta={"finish_reason": "stop" if cut < len(toks) else "length"})
                out[i] = comp
                n_out += comp.tokens_out
                self._emit(i, comp)
                bar.update(1)
                bar.set_postfix(tok_s=f"{n_out / max(time.monotonic() - t0, 1e-9):.1f}", refresh=False)

            decode(model, ids, order, int(gen.max_tokens), eos, self.batch_size, tok.pad_token_id,
                   temperature=float(gen.temperature), top_p=float(gen.top_p),
                   seed_of=lambda i: _seed(gen.seed, sample_index, ids[i]), on_done=done)
        return out

    def encode_prompt(self, conversation) -> list[int]:
        """Token ids of a conversation: its chat-template rendering, or (chat_template false) its one user
        message as raw text (its special-token strings kept literal; BOS etc. added as `tokenizer(text)` does)."""
        _, tok = self.load()
        if self.chat_template:
            return encode_chat(tok, conversation)
        if len(conversation) != 1 or conversation[0].get("role") != "user":
            raise ValueError("hf backend with chat_template false: expected one user message per conversation")
        return tok(conversation[0]["content"], split_special_tokens=True)["input_ids"]

    # ---- log-likelihood ----
    def encode_for_loglik(self, text: str, max_tokens: int | None = None) -> list[int]:
        _, tok = self.load()
        ids = tok(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]  # literal text
        if max_tokens is not None:
            ids = ids[:int(max_tokens)]
        if tok.bos_token_id is not None:
            ids = [tok.bos_token_id] + ids
        return ids

    def loglik(self, texts, max_tokens=None):
        import torch

        model, tok = self.load()
        ids = [self.encode_for_loglik(t, max_tokens) for t in texts]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        out: list[dict | None] = [None] * len(ids)
        pad = tok.pad_token_id
        with self._progress(len(ids), f"{self.label} loglik") as bar, torch.inference_mode():
            start = 0
            while start < len(order):
                longest = max(len(ids[order[start]]), 1)  # sorted: the first of a batch is the longest
                size = max(1, min(self.batch_size, self.max_batch_tokens // longest))
                idx = order[start:start + size]
                start += len(idx)
                x = torch.full((len(idx), longest), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), longest), dtype=torch.long)
                for r, i in enumerate(idx):
                    x[r, :len(ids[i])] = torch.tensor(ids[i])
                    mask[r, :len(ids[i])] = 1
                x, mask = x.to(self.device), mask.to(self.device)
                if longest > 1:
                    logits = model(input_ids=x, attention_mask=mask).logits[:, :-1].float()
                    logp = torch.log_softmax(logits, dim=-1).gather(-1, x[:, 1:, None])[..., 0]
                    nll = (-(logp * mask[:, 1:])).sum(dim=1).tolist()
                else:
                    nll = [0.0] * len(idx)
                for r, i in enumerate(idx):
                    n = max(len(ids[i]) - 1, 0)
                    val = {"nll_sum": float(nll[r]), "n_tokens": n,
                           "ppl": math.exp(nll[r] / n) if n else float("nan")}
                    out[i] = val
                    self._emit(i, val)
                bar.update(len(idx))
        return out

    # ---- choice log-probabilities ----
    def choice_logprobs(self, prompts, choices):
        import torch

        model, tok = self.load()
        cids = [tok(c, add_special_tokens=False)["input_ids"] for c in choices]
        if not cids or not all(cids):
            raise ValueError(f"choice_logprobs: choices must be non-empty strings, got {choices!r}")
        keep = max(len(c) for c in cids)
        limit = int(getattr(model.config, "max_position_embeddings", 0) or 0)
        rows: dict[tuple, int] = {}  # distinct input sequence -> row
        waiting: dict[int, list[tuple[int, int]]] = {}  # row -> (prompt, choice) pairs it scores
        for i, p in enumerate(prompts):
            pids = self.encode_for_loglik(p)
            for j, c in enumerate(cids):
                seq = (pids + c)[:-1]
                r = rows.setdefault(tuple(seq[-limit:] if limit else seq), len(rows))
                waiting.setdefault(r, []).append((i, j))
        seqs = list(rows)
        vals = [[0.0] * len(cids) for _ in prompts]
        left = [len(cids)] * len(prompts)
        out: list[dict | None] = [None] * len(prompts)
        order = sorted(range(len(seqs)), key=lambda r: -len(seqs[r]))
        with self._progress(len(seqs), f"{self.label} choice_logprobs") as bar, torch.inference_mode():
            start = 0
            while start < len(order):
                longest = max(len(seqs[order[start]]), 1)  # sorted: the first of a batch is the longest
                idx = order[start:start + max(1, min(self.batch_size, self.max_batch_tokens // longest))]
                start += len(idx)
                x = torch.full((len(idx), longest), tok.pad_token_id, dtype=torch.long)
                mask = torch.zeros((len(idx), longest), dtype=torch.long)
                for b, r in enumerate(idx):
                    if seqs[r]:
                        x[b, longest - len(seqs[r]):] = torch.tensor(seqs[r])
                        mask[b, longest - len(seqs[r]):] = 1
                x, mask = x.to(self.device), mask.to(self.device)
                pos = (mask.cumsum(-1) - 1).clamp(min=0)
                logits = model(input_ids=x, attention_mask=mask, position_ids=pos, logits_to_keep=keep).logits
                lp = torch.log_softmax(logits.float(), dim=-1)
                for b, r in enumerate(idx):
                    for i, j in waiting[r]:
                        c = cids[j]  # its tokens are predicted by the row's last len(c) positions
                        vals[i][j] = float(sum(lp[b, keep - len(c) + t, tid] for t, tid in enumerate(c)))
                        left[i] -= 1
                        if left[i] == 0:
                            out[i] = dict(zip(choices, vals[i]))
                            self._emit(i, out[i])
                bar.update(len(idx))
        return out

    def close(self) -> None:
        self._model = self._tok = None


def encode_chat(tok, conv: list[dict]) -> list[int]:
    """Token ids of a conversation rendered with the tokenizer's chat template, with untrusted text kept literal.

    The template's own markup (`<|im_start|>`, role names, ...) is tokenized with its special tokens; every
    message content is tokenized with `split_special_tokens=True`, so a `<|im_end|><|im_start|>system` written
    inside a prompt or a model output stays plain text and never opens or closes a turn. Done by rendering the
    template over unique placeholders and tokenizing the pieces between them.
    """
    nonce = hashlib.sha256(repr([m.get("content") for m in conv]).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    marks = [f"\uE000mseed{nonce}m{i}\uE001" for i in range(len(conv))]
    shadow = [{**m, "content": mark} for m, mark in zip(conv, marks)]
    text = tok.apply_chat_template(shadow, tokenize=False, add_generation_prompt=True)
    pieces = re.split("(" + "|".join(map(re.escape, marks)) + ")", text)
    if sorted(p for p in pieces if p in marks) != sorted(marks):
        raise ValueError("hf backend: the chat template changes message contents (it must insert each "
                         "message's content verbatim); cannot keep untrusted text literal")
    content = {mark: m.get("content") or "" for m, mark in zip(conv, marks)}
    ids: list[int] = []
    for piece in pieces:
        if piece in content:
            ids += tok(content[piece], add_special_tokens=False, split_special_tokens=True)["input_ids"]
        elif piece:
            ids += tok(piece, add_special_tokens=False)["input_ids"]
    return ids


def _seed(seed: int, sample_index: int, prompt_ids: list[int]) -> int:
    """Per-prompt sampling seed: the same prompt gets the same sample whatever else is in the batch."""
    digest = hashlib.sha256(f"{seed}:{sample_index}:{prompt_ids}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFFFFFFFFFFFFFF
