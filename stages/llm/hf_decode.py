"""The hf backend's decoding loop: a preallocated KV cache and refilling of finished rows.

`decode(model, prompts, ...)` returns the new token ids of every prompt (eos included when it
stopped there). How it runs, and why:
- One KV buffer per layer, [slots, kv_heads, max_len, head_dim], allocated once. Every step writes
  one column, shared by all rows (rows are right-aligned, left padding masked out), so there is no
  per-step `torch.cat` growing the cache (transformers' DynamicCache spent ~57% of a CPU step there).
- Continuous batching: a row that hits eos or max_new leaves its slot at once; waiting prompts are
  prefilled (as a small batch) and their KV copied into the free slots, so the batch never idles
  waiting for its longest answer. When the write column reaches the end, the buffer is shifted left
  past columns no active row uses.
- Masks are built here (4-D, passed as-is to the attention), positions per row, logits only for the
  last token. One-token steps use `gqa_eager` (registered with transformers' AttentionInterface):
  transformers' eager attention (plain matmuls) without `repeat_kv`, i.e. each KV head's query group
  is one matmul against the cache instead of copying the cache once per query head. On this CPU torch's
  sdpa flash kernel took 67% of a batch-32 step and eager halved it; gqa_eager is another 1.4x at batch
  32 (bench/README.md); the sums are grouped differently, so in bf16 a few greedy replies change wording
  (8 of 620 in the embedded default's evaluations, no verdict). Prefills keep sdpa, which is faster there.
- Greedy: argmax. Sampling: temperature then top-p (as transformers' warpers), one torch.Generator
  per prompt seeded by `seed_of(prompt_index)`, so samples do not depend on batch size or order.
"""
from __future__ import annotations

import contextlib

import torch
from transformers import AttentionInterface
from transformers.cache_utils import Cache, CacheLayerMixin


def gqa_eager(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    """transformers' eager_attention_forward without repeat_kv: query [b, heads, q, d] is viewed as
    [b, kv_heads, groups * q, d] (head h = kv * groups + g, as repeat_kv orders them), so each KV head is
    read once. The additive mask [b, 1, q, cols] broadcasts over the groups. Returns ([b, q, heads, d], weights)."""
    b, heads, q, d = query.shape
    kv_heads = key.shape[1]
    w = torch.matmul(query.reshape(b, kv_heads, heads // kv_heads * q, d), key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        w = (w.view(b, kv_heads, heads // kv_heads, q, -1) + attention_mask[:, :, None]).view(w.shape)
    w = torch.nn.functional.softmax(w, dim=-1, dtype=torch.float32).to(query.dtype)
    w = torch.nn.functional.dropout(w, p=dropout, training=module.training)
    out = torch.matmul(w, value).reshape(b, heads, q, d).transpose(1, 2).contiguous()
    return out, w


AttentionInterface.register("gqa_eager", gqa_eager)


class _SlotLayer(CacheLayerMixin):
    """One layer's KV buffer; `update` writes at the owner's column `t` and returns columns [0, t+q)."""

    def __init__(self, owner: "SlotCache", keys: torch.Tensor, values: torch.Tensor):
        super().__init__()
        self.owner, self.keys, self.values, self.is_initialized = owner, keys, values, True

    def lazy_initialization(self, key_states, value_states):  # allocated up front
        pass

    def update(self, key_states, value_states, *args, **kwargs):
        t, q = self.owner.t, key_states.shape[2]
        self.keys[:, :, t:t + q] = key_states
        self.values[:, :, t:t + q] = value_states
        return self.keys[:, :, :t + q], self.values[:, :, :t + q]

    def get_mask_sizes(self, query_length):
        return self.owner.t + query_length, 0

    def get_seq_length(self):
        return self.owner.t

    def get_max_length(self):  # transformers >= 5.16 (abstract there)
        return self.keys.shape[2]

    get_max_cache_shape = get_max_length  # transformers < 5.16


class SlotCache(Cache):
    def __init__(self, config, slots: int, max_len: int, dtype, device):
        heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
        dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.t = 0
        shape = (slots, heads, max_len, dim)
        super().__init__(layers=[_SlotLayer(self, torch.zeros(shape, dtype=dtype, device=device),
                                            torch.zeros(shape, dtype=dtype, device=device))
                                 for _ in range(config.num_hidden_layers)])


def _mask(model, valid: torch.Tensor, q: int) -> torch.Tensor:
    """4-D attention mask for the last `q` columns of `valid` ([rows, cols] bool), causal within them."""
    rows, cols = valid.shape
    m = valid[:, None, None, :].expand(rows, 1, q, cols).clone()
    if q > 1:
        m[:, :, :, cols - q:] &= torch.ones(q, q, dtype=torch.bool, device=valid.device).tril()
        m |= ~m.any(-1, keepdim=True)  # fully padded query rows attend to something (output unused)
    if model.config._attn_implementation == "sdpa":
        return m
    return torch.zeros(m.shape, dtype=model.dtype, device=m.device).masked_fill(~m, torch.finfo(model.dtype).min)


def _pick(logits: torch.Tensor, temperature: float, top_p: float, gens) -> torch.Tensor:
    if temperature <= 0:
        return logits.argmax(-1)
    logits = logits.float() / temperature
    if top_p < 1.0:  # transformers' TopPLogitsWarper: drop the low tail whose mass is <= 1 - top_p
        srt, idx = torch.sort(logits, descending=False)
        drop = srt.softmax(-1).cumsum(-1) <= (1 - top_p)
        drop[..., -1] = False
        logits = logits.masked_fill(drop.scatter(-1, idx, drop), float("-inf"))
    probs = logits.softmax(-1)
    return torch.cat([torch.multinomial(probs[r], 1, generator=g) for r, g in enumerate(gens)])


def _prefill(model, seqs: list[list[int]], pad: int, device):
    """Run left-padded `seqs`; returns (temporary SlotCache, valid mask, last-token logits)."""
    width = max(len(s) for s in seqs)
    x = torch.full((len(seqs), width), pad, dtype=torch.long)
    valid = torch.zeros((len(seqs), width), dtype=torch.bool)
    for r, s in enumerate(seqs):
        x[r, width - len(s):] = torch.tensor(s)
        valid[r, width - len(s):] = True
    x, valid = x.to(device), valid.to(device)
    pos = (valid.long().cumsum(-1) - 1).clamp(min=0)
    cache = SlotCache(model.config, len(seqs), width, model.dtype, device)
    out = model(input_ids=x, attention_mask=_mask(model, valid, width), position_ids=pos,
                past_key_values=cache, use_cache=True, logits_to_keep=1)
    return cache, valid, out.logits[:, -1]


def decode(model, prompts: list[list[int]], order: list[int], max_new: int, eos: set[int], slots: int,
           pad: int, temperature: float = 0.0, top_p: float = 1.0, seed_of=None, on_done=None,
           refill_at: float = 0.25, step_attention: str | None = "gqa_eager") -> list[list[int]]:
    """New tokens per prompt. `order`: the order prompts enter (longest first keeps padding small).

    `on_done(i, tokens)` is called as each prompt finishes. Free slots are refilled once at least
    `refill_at` of them are free (or nothing else is running), to batch the prefills.
    `step_attention`: attention implementation for one-token steps (None: the model's own).
    """
    device = next(model.parameters()).device
    out: list[list[int] | None] = [None] * len(prompts)
    if not prompts or max_new <= 0:
        return [[] for _ in prompts]
    queue = list(order)
    slots = max(1, min(slots, len(queue)))
    longest = max(len(p) for p in prompts)
    cache = SlotCache(model.config, slots, longest + max_new + max(64, longest // 2), model.dtype, device)
    cap = cache.layers[0].keys.shape[2]
    valid = torch.zeros((slots, cap), dtype=torch.bool, device=device)
    pos = torch.zeros(slots, dtype=torch.long, device=device)
    last = torch.full((slots,), pad, dtype=torch.long, device=device)
    row: list[int | None] = [None] * slots  # prompt index in each slot
    toks: list[list[int]] = [[] for _ in range(slots)]
    gens: list = [None] * slots
    cache.t = longest

    def finish(s: int) -> None:
        out[row[s]] = toks[s]
        if on_done is not None:
            on_done(row[s], toks[s])
        row[s] = None

    def take(s: int, tok: int) -> None:
        toks[s].append(tok)
        last[s] = tok
        if tok in eos or len(toks[s]) >= max_new:
            finish(s)

    def refill(free: list[int]) -> None:
        new = [queue.pop(0) for _ in free[:len(queue)]]
        tmp, tvalid, logits = _prefill(model, [prompts[i] for i in new], pad, device)
        width, t = tvalid.shape[1], cache.t
        if t < width:  # not enough columns left of the write column: shift everything right
            _shift(cache, valid, t - width)
            t = cache.t
        for r, (s, i) in enumerate(zip(free, new)):
            for layer, src in zip(cache.layers, tmp.layers):
                layer.keys[s, :, t - width:t] = src.keys[r]
                layer.values[s, :, t - width:t] = src.values[r]
            valid[s] = False
            valid[s, t - width:t] = tvalid[r]
            pos[s] = len(prompts[i])
            row[s], toks[s] = i, []
            gens[s] = None
            if temperature > 0:
                gens[s] = torch.Generator(device=device).manual_seed(seed_of(i) if seed_of else i)
        picked = _pick(logits, temperature, top_p, [gens[s] for s in free[:len(new)]]).tolist()
        for s, tok in zip(free, picked):
            take(s, tok)

    while queue or any(r is not None for r in row):
        free = [s for s in range(slots) if row[s] is None]
        if queue and free and (len(free) >= refill_at * slots or len(free) == slots):
            refill(free)
            continue
        active = [s for s in range(slots) if row[s] is not None]
        if not active:
            continue
        if cache.t >= cap:
            starts = [int(valid[s].nonzero()[0]) for s in active]
            _shift(cache, valid, min(starts))
        t = cache.t
        valid[:, t] = True  # idle slots too, so no query row is fully masked
        with _attention(model, step_attention):
            res = model(input_ids=last[:, None], attention_mask=_mask(model, valid[:, :t + 1], 1),
                        position_ids=pos[:, None], past_key_values=cache, use_cache=True, logits_to_keep=1)
        cache.t = t + 1
        pos += 1
        picked = _pick(res.logits[active, -1], temperature, top_p, [gens[s] for s in active]).tolist()
        for s, tok in zip(active, picked):
            take(s, tok)
    return out  # type: ignore[return-value]


@contextlib.contextmanager
def _attention(model, impl: str | None):
    """Use attention implementation `impl` inside the block (the layers read it from the shared config)."""
    old = model.config._attn_implementation
    if impl and model.device.type == "cpu":
        model.config._attn_implementation = impl
    try:
        yield
    finally:
        model.config._attn_implementation = old


def _shift(cache: SlotCache, valid: torch.Tensor, by: int) -> None:
    """Move every row's columns left by `by` (right when negative); the write column moves with them."""
    t = cache.t
    if by == 0:
        return
    for layer in cache.layers:
        for buf in (layer.keys, layer.values):
            if by > 0:
                buf[:, :, :t - by] = buf[:, :, by:t].clone()
            else:
                buf[:, :, -by:t - by] = buf[:, :, :t].clone()
    if by > 0:
        valid[:, :t - by] = valid[:, by:t].clone()
        valid[:, t - by:] = False
    else:
        valid[:, -by:t - by] = valid[:, :t].clone()
        valid[:, :-by] = False
    cache.t = t - by
