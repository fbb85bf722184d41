"""Agreement of a labeler with the native categories (metrics/label.json `agreement`, the confusion plot).

Only records whose native metadata gives codes count. Per record: native codes N (primary first) and the
labeler's own codes P (its normalised labels, `other` dropped; none when it gave no taxonomy label).
- precision = sum |P & N| / sum |P|, recall = sum |P & N| / sum |N| (micro, over records);
- top1_in_native: share of records whose labeler primary code is one of N;
- kappa: Cohen's kappa of labeler primary vs native primary over the 14 codes + `other`;
- chance: the agreement kappa expects by chance (p_e: independent labels with the same marginals), and
  uniform_top1_in_native: what a labeler picking one of the 14 uniformly at random gets (mean |N| / 14).
"""
from __future__ import annotations

from collections import Counter

from stages import taxonomy


class Agreement:
    def __init__(self):
        self.n = self.tp = self.n_pred = self.n_native = self.top1_in = self.native_sizes = 0
        self.pairs: Counter = Counter()

    def add(self, native: list[str], pred: list[str]) -> None:
        if not native:
            return
        pred = list(dict.fromkeys(c for c in pred if c in taxonomy.CODES))
        self.n += 1
        self.tp += len(set(pred) & set(native))
        self.n_pred += len(pred)
        self.n_native += len(set(native))
        self.native_sizes += len(set(native))
        self.top1_in += bool(pred) and pred[0] in native
        self.pairs[(native[0], pred[0] if pred else taxonomy.OTHER)] += 1

    def as_dict(self) -> dict:
        n = self.n
        if not n:
            return {"n": 0}
        rows, cols = Counter(), Counter()
        for (a, b), k in self.pairs.items():
            rows[a] += k
            cols[b] += k
        p_o = sum(k for (a, b), k in self.pairs.items() if a == b) / n
        p_e = sum(rows[c] * cols[c] for c in taxonomy.ALL_LABELS) / (n * n)
        return {"n": n,
                "precision": _r(self.tp / self.n_pred) if self.n_pred else None,
                "recall": _r(self.tp / self.n_native),
                "top1_accuracy": _r(p_o),
                "top1_in_native": _r(self.top1_in / n),
                "kappa": _r((p_o - p_e) / (1 - p_e)) if p_e < 1 else None,
                "chance": _r(p_e),
                "uniform_top1_in_native": _r(self.native_sizes / n / len(taxonomy.CODES))}


def _r(x: float) -> float:
    return round(x, 4)


def llm_codes(rec: dict) -> list[str]:
    return [c for c in rec.get("intent_codes") or [] if c != taxonomy.OTHER]


def native_codes(rec: dict) -> list[str]:
    if rec.get("native_codes") is not None:
        return list(rec["native_codes"])
    return taxonomy.map_native(rec.get("format") or "", rec.get("native_category"))


def confusion_rows(records_pairs: Counter) -> list[tuple[str, str]]:
    """One (native, labeler) row per record, for DVC's confusion template."""
    return [pair for pair, k in sorted(records_pairs.items()) for _ in range(k)]


def plot_confusion(pairs: Counter, path: str, title: str) -> None:
    """A confusion-matrix heat map (rows: native primary, columns: labeler primary) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from stages.io import atomic_path

    labels = taxonomy.ALL_LABELS
    grid = [[pairs.get((a, b), 0) for b in labels] for a in labels]
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("labeler (primary)")
    ax.set_ylabel("native (primary)")
    ax.set_title(title, fontsize=9)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=6,
                        color="white" if v > max(map(max, grid)) / 2 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
