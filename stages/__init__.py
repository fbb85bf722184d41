"""mseed-pipeline: one module per DVC stage; see README.md."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Keep caches inside the project unless the user already chose a place.
for _var, _sub in (("HF_HOME", "hf"), ("HF_DATASETS_CACHE", "hf/datasets"),
                   ("MPLCONFIGDIR", "matplotlib"), ("DVC_SITE_CACHE_DIR", "dvc-site")):
    os.environ.setdefault(_var, str(ROOT / ".cache" / _sub))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenMP threads that spin while waiting make small-model CPU inference 5-50x slower as soon as
# another process shares the cores (measured: 2 -> 17 tokens/s); on an idle machine spinning is only
# 1.1-1.4x faster (bench/README.md). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
