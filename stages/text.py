"""Text utilities shared by augment (near-dup removal, diversity) and select (decontamination).

Tokens are language-agnostic: every CJK character is one token, every Latin word or number is one
token (NFKC, lower case), punctuation is dropped. N-grams are tuples of consecutive tokens; a text
shorter than n yields one n-gram (all its tokens) so short prompts still compare.

- `tokens`, `ngrams`, `hashed_ngrams`, `jaccard`: exact n-gram sets and their overlap.
- `NearDupIndex`: MinHash + LSH banding to find candidates, exact Jaccard to confirm them.
- `distinct_n`, `mean_pairwise_similarity`: diversity measures over a list of texts.
- `detect_lang`: 'zh' when CJK characters make up >= 30% of the words, else 'en' (collect and augment).
"""
from __future__ import annotations

import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable

import numpy as np
import xxhash

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text or "").lower())


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    toks = tokens(text)
    if not toks:
        return set()
    if len(toks) < n:
        return {tuple(toks)}
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def hashed_ngrams(text: str, n: int) -> set[int]:
    """64-bit hashes of the n-grams (compact for large indexes, e.g. decontamination)."""
    return {xxhash.xxh64_intdigest("\x1f".join(g).encode("utf-8")) for g in ngrams(text, n)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def detect_lang(text: str, default: str = "en") -> str:
    """zh when CJK characters make up >= 30% of the text's words (one CJK char ~ one word ~ 4 Latin letters)."""
    cjk = len(_CJK.findall(text or ""))
    latin = len(_LATIN.findall(text or "")) / 4
    if cjk + latin == 0:
        return default
    return "zh" if cjk / (cjk + latin) >= 0.3 else "en"


_PRIME = (1 << 61) - 1


class NearDupIndex:
    """Near-duplicate lookup: texts whose n-gram Jaccard similarity is >= threshold.

    MinHash signatures (num_perm) split into bands find candidate pairs (LSH); every candidate is
    confirmed with the exact Jaccard of the stored hashed n-gram sets. Rows per band are chosen so
    that a pair exactly at the threshold is a candidate with probability >= `recall`.
    """

    def __init__(self, threshold: float = 0.8, n: int = 3, num_perm: int = 128, bands: int | None = None,
                 seed: int = 1, recall: float = 0.999):
        if bands is None:  # as many rows per band as the recall target at `threshold` allows
            bands = num_perm
            for rows in range(num_perm, 0, -1):
                if 1 - (1 - threshold ** rows) ** (num_perm // rows) >= recall:
                    bands = num_perm // rows
                    break
        if not 1 <= bands <= num_perm:
            raise ValueError("bands must be between 1 and num_perm")
        self.threshold, self.n, self.bands, self.rows = threshold, n, bands, num_perm // bands
        rng = np.random.default_rng(seed)
        self._a = rng.integers(1, _PRIME, size=num_perm, dtype=np.uint64)
        self._b = rng.integers(0, _PRIME, size=num_perm, dtype=np.uint64)
        self._buckets: list[dict[bytes, list]] = [defaultdict(list) for _ in range(bands)]
        self._sets: dict[Hashable, set[int]] = {}

    def __len__(self) -> int:
        return len(self._sets)

    def _signature(self, hashes: set[int]) -> np.ndarray:
        x = np.fromiter((h & _PRIME for h in hashes), dtype=np.uint64, count=len(hashes))
        # (a*x + b) mod p in uint64 with wrap-around: a universal-enough permutation family for LSH.
        perm = (np.outer(x, self._a) + self._b) % np.uint64(_PRIME)
        return perm.min(axis=0)

    def _bands(self, sig: np.ndarray) -> list[bytes]:
        return [sig[i * self.rows:(i + 1) * self.rows].tobytes() for i in range(self.bands)]

    def query(self, text: str, hashes: set[int] | None = None) -> list[tuple[Hashable, float]]:
        """Keys of stored texts similar to `text` (Jaccard >= threshold), most similar first."""
        hashes = hashed_ngrams(text, self.n) if hashes is None else hashes
        if not hashes:
            return []
        seen, hits = set(), []
        for band, key in zip(self._buckets, self._bands(self._signature(hashes))):
            for k in band.get(key, ()):
                if k in seen:
                    continue
                seen.add(k)
                sim = jaccard(hashes, self._sets[k])
                if sim >= self.threshold:
                    hits.append((k, sim))
        return sorted(hits, key=lambda kv: -kv[1])

    def add(self, key: Hashable, text: str, hashes: set[int] | None = None) -> None:
        hashes = hashed_ngrams(text, self.n) if hashes is None else hashes
        if key in self._sets:
            raise KeyError(f"duplicate key {key!r}")
        self._sets[key] = hashes
        if hashes:
            for band, bkey in zip(self._buckets, self._bands(self._signature(hashes))):
                band[bkey].append(key)

    def add_if_new(self, key: Hashable, text: str) -> Hashable | None:
        """Add `text` unless it near-duplicates a stored one; return that one's key, or None when added."""
        hashes = hashed_ngrams(text, self.n)
        hits = self.query(text, hashes)
        if hits:
            return hits[0][0]
        self.add(key, text, hashes)
        return None


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct-n: unique n-grams / all n-grams over the texts (0 when there are none)."""
    total, uniq = 0, set()
    for t in texts:
        toks = tokens(t)
        grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
        total += len(grams)
        uniq.update(grams)
    return len(uniq) / total if total else 0.0


def mean_pairwise_similarity(texts: list[str], n: int = 3, sample: int = 200, seed: int = 0) -> float:
    """Mean n-gram Jaccard over all pairs of a random sample of `sample` texts (lower = more diverse)."""
    texts = list(texts)
    if len(texts) > sample:
        texts = random.Random(seed).sample(texts, sample)
    sets = [ngrams(t, n) for t in texts]
    total, pairs = 0.0, 0
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            total += jaccard(sets[i], sets[j])
            pairs += 1
    return total / pairs if pairs else 0.0


def diversity(texts: list[str], n: int = 3, sample: int = 200, seed: int = 0) -> dict[str, float]:
    return {"distinct_1": round(distinct_n(texts, 1), 4), "distinct_2": round(distinct_n(texts, 2), 4),
            "mean_pairwise_similarity": round(mean_pairwise_similarity(texts, n, sample, seed), 4),
            "n": len(texts)}
