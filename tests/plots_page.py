"""Build .dvc/plots/page.html, the page `dvc plots show` fills: the vendored Vega scripts inlined.

Inlined, the page renders offline from any `-o` folder (nothing is loaded from a path or a CDN).
Vega-embed is wrapped to render SVG, so every drawn mark is an element of the page (the browser
test counts them). Rebuild after changing .dvc/plots/vendor: `python -m tests.plots_page`.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLOTS = ROOT / ".dvc" / "plots"
VENDOR = PLOTS / "vendor"
PAGE = PLOTS / "page.html"
SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
SVG = """window.vegaEmbed = (function (embed) {
  return function (el, spec, opts) { return embed(el, spec, Object.assign({renderer: "svg"}, opts || {})); };
})(window.vegaEmbed);"""

HEAD = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>mseed-pipeline plots</title>
    <!-- Built by tests/plots_page.py from .dvc/plots/vendor (vega 5.20.2, vega-lite 5.2.0, vega-embed 6.18.2,
         BSD-3-Clause, see the LICENSE files there). No "scripts" placeholder: it would add CDN tags. -->
"""
TAIL = """    <style>
        body { font-family: sans-serif; }
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def build() -> str:
    parts = [HEAD]
    for name in SCRIPTS:
        js = (VENDOR / name).read_text(encoding="utf-8")
        for placeholder in ("{plot_divs}", "{scripts}", "{refresh_tag}", "</script"):
            assert placeholder not in js, f"{name} contains {placeholder}: cannot inline it"
        parts.append(f"    <script>/* {name} */\n{js}\n    </script>\n")
    parts.append(f"    <script>\n{SVG}\n    </script>\n")
    parts.append(TAIL)
    return "".join(parts)


if __name__ == "__main__":
    PAGE.write_text(build(), encoding="utf-8")
    print(f"wrote {PAGE} ({PAGE.stat().st_size} bytes)")
