"""Source formats: one reader per native format, grouped by source family.

A reader takes a path and yields (line, native_id, prompt, response, native_category, meta); each native record
is checked against its definition in stages/schemas/native.py. stages.loaders turns these into `collected` records.
"""
from __future__ import annotations

from collections.abc import Callable

from stages.formats import benchmarks, general, mseed, seval

READERS: dict[str, Callable] = {
    "safety_prompts": benchmarks.safety_prompts, "safetybench_test": benchmarks.safetybench_test,
    "safetybench_dev": benchmarks.safetybench_dev, "cvalues_comparison": benchmarks.cvalues_comparison,
    "cvalues_mc": benchmarks.cvalues_mc, "cvalues_responsibility": benchmarks.cvalues_responsibility,
    "seval": seval.seval, "mseed": mseed.mseed, "mseed_eval": mseed.mseed_eval, "newsafety": benchmarks.newsafety,
    "alpaca": general.alpaca, "sharegpt": general.sharegpt,
}
FORMATS = list(READERS)
GENERAL_FORMATS = ["alpaca", "sharegpt"]
SAFETY_FORMATS = [f for f in FORMATS if f not in GENERAL_FORMATS]
