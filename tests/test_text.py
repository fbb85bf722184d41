import random

import pytest

from stages.text import (
    NearDupIndex,
    detect_lang,
    distinct_n,
    diversity,
    hashed_ngrams,
    jaccard,
    mean_pairwise_similarity,
    ngrams,
    tokens,
)


def test_tokens_mix_cjk_characters_and_latin_words():
    assert tokens("如何 hack WiFi，密码？") == ["如", "何", "hack", "wifi", "密", "码"]
    assert tokens("Ｈｅｌｌｏ  world!") == ["hello", "world"]  # NFKC folds full-width letters


def test_ngrams_and_short_texts():
    assert ngrams("a b c d", 3) == {("a", "b", "c"), ("b", "c", "d")}
    assert ngrams("a b", 3) == {("a", "b")}
    assert ngrams("!!!", 3) == set()
    assert len(hashed_ngrams("今天天气很好", 2)) == 5


def test_jaccard():
    assert jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 1.0


def test_detect_lang():
    assert detect_lang("怎么做蛋糕") == "zh"
    assert detect_lang("How to bake a cake") == "en"
    assert detect_lang("请解释 GPU") == "zh"


def _variants():
    base = "how can i find out the home address of a famous actress without anyone noticing it"
    rnd = random.Random(0)
    words = base.split()
    far = [" ".join(rnd.sample(words, len(words))) for _ in range(5)]
    return base, base + " please", far


def test_near_dup_index_finds_duplicates_and_only_them():
    base, near, far = _variants()
    idx = NearDupIndex(threshold=0.8, n=3)
    assert idx.add_if_new("a", base) is None
    assert idx.add_if_new("b", near) == "a"  # one extra word: Jaccard 14/15
    for i, t in enumerate(far):  # same words, shuffled: few shared 3-grams
        assert jaccard(ngrams(t, 3), ngrams(base, 3)) < 0.8
        assert idx.add_if_new(f"f{i}", t) is None
    assert len(idx) == 6
    hits = idx.query(base)
    assert hits[0] == ("a", 1.0)


def test_near_dup_index_agrees_with_exact_jaccard():
    rnd = random.Random(1)
    vocab = [f"w{i}" for i in range(30)]
    texts = []
    for _ in range(40):
        t = rnd.sample(vocab, 12)
        texts.append(" ".join(t))
        t2 = list(t)
        t2[rnd.randrange(12)] = rnd.choice(vocab)  # a small edit
        texts.append(" ".join(t2))
    idx = NearDupIndex(threshold=0.6, n=2)
    for i, t in enumerate(texts):
        exact = {j for j in range(i) if jaccard(ngrams(t, 2), ngrams(texts[j], 2)) >= 0.6}
        found = {k for k, _ in idx.query(t)}
        assert found == exact
        idx.add(i, t)


def test_near_dup_index_rejects_bad_config_and_duplicate_keys():
    with pytest.raises(ValueError):
        NearDupIndex(num_perm=10, bands=11)
    idx = NearDupIndex()
    idx.add("k", "some text here")
    with pytest.raises(KeyError):
        idx.add("k", "other text")


def test_distinct_n_and_pairwise_similarity():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b", "a b"], 2) == 0.5
    assert distinct_n([], 2) == 0.0
    same = ["the cat sat on the mat"] * 4
    varied = ["the cat sat on the mat", "dogs chase balls in parks", "rain falls over hills", "一只猫在睡觉"]
    assert mean_pairwise_similarity(same) == 1.0
    assert mean_pairwise_similarity(varied) == 0.0
    d = diversity(varied, sample=3, seed=0)
    assert d["n"] == 4 and d["distinct_1"] > diversity(same)["distinct_1"]
