"""bench/roofline.py's cost model on hand-computed cases (the bench prints these bounds)."""
from types import SimpleNamespace

import pytest

from bench import roofline

CFG = SimpleNamespace(num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=4,
                      hidden_size=8, vocab_size=10, tie_word_embeddings=True)


def test_step_cost_counts_weights_once_and_the_kv_read():
    nbytes, flops = roofline.step_cost(CFG, 1000, batch=3, kv=5, bytes_per=2)
    assert nbytes == 1000 * 2 + 3 * 5 * 2 * 2 * 1 * 4 * 2  # weights + K and V of 2 layers, 1 KV head
    assert flops == 2 * 1000 * 3 + 4 * 3 * 5 * 2 * 2 * 4


def test_prefill_flops_skip_the_embedding_and_keep_one_logit_row():
    # tied: 1000 - 80 body weights per token, the 10 x 8 head once, causal attention 2 * n^2 * layers * heads * dim
    assert roofline.prefill_flops(CFG, 1000, [3]) == 2 * 920 * 3 + 2 * 80 + 2 * 9 * 2 * 2 * 4
    untied = SimpleNamespace(**{**vars(CFG), "tie_word_embeddings": False})
    assert roofline.prefill_flops(untied, 1000, [3, 1]) == (2 * 840 * 3 + 160 + 288) + (2 * 840 + 160 + 32)


def test_best_share_is_decoding_time_over_floor_plus_decoding():
    assert roofline.best_share(1.0, 10, 5.0) == pytest.approx(2 / 3)
    assert roofline.best_share(0.0, 10, 5.0) == 1.0
