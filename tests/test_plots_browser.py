"""`dvc plots show` pages render in headless Chromium, offline, from any output folder, every plot drawn.

Needs Debian's `chromium` (/usr/bin/chromium; .ci/run and `make test` install it with apt-get). Without
it the browser tests skip, except under CI (CI=true), where they fail.
"""
import csv
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.plots_page import PAGE, build

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"),
                                    reason="chromium is not installed (apt-get install chromium)")


def declared_plots() -> dict[str, dict]:
    """plot file -> its properties, from every stage's `plots:` (the only place plots are declared)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    out = {}
    for st in stages.values():
        for entry in st.get("plots", []):
            (path, props), = entry.items()
            out[path] = props
    return out


def test_each_plot_is_declared_once_with_a_title_and_axes():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    assert "plots" not in dvc  # a top-level entry would show each plot a second time
    plots = declared_plots()
    assert len(plots) == 6
    for path, p in plots.items():
        assert p.get("title") and p.get("x_label") and p.get("y_label"), path
        template = p.get("template")
        assert template == "linear" or (ROOT / ".dvc" / "plots" / f"{template}.json").is_file(), path
        with open(ROOT / path, encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert p["x"] in header and p["y"] in header, path


def test_page_template_is_built_from_the_vendored_scripts():
    assert PAGE.read_text(encoding="utf-8") == build(), "run `python -m tests.plots_page`"
    assert "http" not in re.sub(r"<script>.*?</script>", "", PAGE.read_text(encoding="utf-8"), flags=re.S)


class Marks(HTMLParser):
    """Per plot div: the `d` of every path drawn inside a vega mark group (not axes or legends)."""

    def __init__(self, ids):
        super().__init__()
        self.ids, self.stack, self.marks = set(ids), [], {i: [] for i in ids}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append((tag, a.get("id"), a.get("class") or ""))
        if tag == "path":
            plot = next((i for _, i, _ in reversed(self.stack) if i in self.ids), None)
            group = next((c for t, _, c in reversed(self.stack[:-1]) if t == "g"), "")
            if plot and "role-mark" in group and not re.search(r"role-(axis|legend|title)", group):
                self.marks[plot].append(a.get("d") or "")

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def drawn_dom(html: Path, tmp: Path) -> str:
    assert CHROMIUM, "chromium is not installed: apt-get install chromium"
    res = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'chromium-profile'}",
                          "--virtual-time-budget=15000", "--dump-dom", html.resolve().as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def plot_repo(tmp: Path) -> Path:
    """The repository's plot declarations, page template and plot CSVs, in a DVC repo of their own."""
    repo = tmp / "repo"
    (repo / "metrics").mkdir(parents=True)
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    shutil.copytree(ROOT / "metrics" / "plots", repo / "metrics" / "plots")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=repo, check=True)
    shutil.copy2(ROOT / ".dvc" / "config", repo / ".dvc" / "config")
    shutil.copytree(ROOT / ".dvc" / "plots", repo / ".dvc" / "plots")
    return repo


def bars_expected(path: Path, x: str) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(float(r[x]) > 0 for r in csv.DictReader(f))


@needs_chromium
@pytest.mark.slow
@pytest.mark.parametrize("out", [None, "other"])  # dvc_plots/ in the repo, and a folder outside it
def test_every_plot_has_drawn_marks(tmp_path, out):
    repo = plot_repo(tmp_path)
    args = [sys.executable, "-m", "dvc", "plots", "show"] + (["-o", str(tmp_path / out)] if out else [])
    subprocess.run(args, cwd=repo, check=True, capture_output=True)
    html = (tmp_path / out if out else repo / "dvc_plots") / "index.html"
    assert sorted(p.name for p in html.parent.iterdir()) == ["index.html"]  # nothing to load beside it
    ids = re.findall(r"vegaEmbed\('#([^']+)'", html.read_text(encoding="utf-8"))
    plots = declared_plots()
    assert sorted(ids) == sorted(re.sub(r"[^\w]", "_", p) for p in plots)  # each plot once
    parser = Marks(ids)
    parser.feed(drawn_dom(html, tmp_path))
    for path, props in plots.items():
        d = parser.marks[re.sub(r"[^\w]", "_", path)]
        if props["template"] == "linear":
            with open(repo / path, encoding="utf-8") as f:
                steps = sum(1 for _ in csv.DictReader(f))
            assert steps > 1 and any(s.count("L") == steps - 1 and "Z" not in s for s in d), path  # the curve
            continue
        widths = [float(w) for s in d for w in re.findall(r"h(-?[\d.]+)", s)[:1]]
        # one bar per row; every nonzero value drawn with a nonzero length
        assert sum(w > 0.5 for w in widths) == bars_expected(repo / path, props["x"]), path
