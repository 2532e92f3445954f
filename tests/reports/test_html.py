"""The HTML report: one self-contained page, every section and plot present, user strings escaped."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from deadpan.findings import Collapse, Finding, Report
from deadpan.scenarios.registry import get
from deadpan.script.autolog import run_callable

from .kit import EVIL, train_with_script_named_layer

pytest.importorskip("matplotlib")

SECTIONS = ("verdict", "causes", "predictions", "depth", "training", "data")


def _plots(page: str) -> list[str]:
    """The decoded SVG of every plot on the page."""
    uris = re.findall(
        r'<img class="plot" alt="[^"]*" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page
    )
    return [base64.b64decode(u).decode("utf-8") for u in uris]


def test_a_collapsed_run_gets_every_section_and_plot(tmp_path: Path) -> None:
    report = run_callable(get("zero-init").train).report
    page = report.to_html(tmp_path / "r.html", title="zero-init")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>") and "COLLAPSED" in page
    for sid in SECTIONS:
        assert f'id="{sid}"' in page or f"id='{sid}'" in page, sid
    for pid in ("plot-predictions", "plot-depth", "plot-loss", "plot-classes", "plot-inputs"):
        assert f'id="{pid}"' in page, pid
    svgs = _plots(page)
    assert len(svgs) >= 6
    for svg in svgs:
        root = ET.fromstring(svg)  # well-formed
        assert root.tag.endswith("svg")
        assert "<script" not in svg and "<text" not in svg  # text drawn as paths: no fonts needed
    assert "init.symmetry" in page


def test_the_page_is_self_contained() -> None:
    page = run_callable(get("healthy-regression").train).report.to_html()
    outside = re.sub(r'src="data:[^"]+"', "", page)
    assert not re.search(r"(?i)<script|<link|@import|@font-face|url\(|https?://", outside)
    assert "default-src 'none'" in page  # the page itself forbids scripts and remote loads
    assert 'id="plot-predictions"' in page and "Predictions against targets" in page  # regression: a scatter


def test_user_strings_are_escaped() -> None:
    finding = Finding(
        code="DP201",
        name="dead-relu",
        category="model.dead_units",
        severity="error",
        message=f"layer {EVIL} is dead",
        fix=f"fix {EVIL}",
    )
    report = Report(
        verdict="collapsed",
        summary=f"summary {EVIL}",
        collapse=Collapse(),
        findings=(finding,),
        internal_errors=(f"Traceback {EVIL}",),
        metrics={
            "figures": {
                "layers": [
                    {
                        "name": EVIL,
                        "kind": "Linear",
                        "activation": None,
                        "spread": 0.0,
                        "dead": 1.0,
                        "saturated": 0.0,
                    }
                ]
            }
        },
    )
    page = report.to_html(title=EVIL)
    assert EVIL not in page and "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_layer_named_like_a_script_in_a_real_run() -> None:

    report = run_callable(train_with_script_named_layer).report
    assert any(layer["name"] == EVIL for layer in report.metrics["figures"]["layers"])
    page = report.to_html()
    assert EVIL not in page and "<script" not in page


def test_json_round_trip_draws_the_same_sections() -> None:
    report = run_callable(get("softmax-into-cross-entropy").train).report
    again = Report.from_json(report.to_json())
    a, b = report.to_html(), again.to_html()
    assert len(_plots(a)) == len(_plots(b)) and re.findall(r'id="(plot-[a-z-]+)"', a) == re.findall(
        r'id="(plot-[a-z-]+)"', b
    )


def test_cli_run_writes_html(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import torch\nfrom torch import nn\ntorch.manual_seed(0)\nx = torch.randn(128, 4)\n"
        "y = (x[:, 0] > 0).long()\nm = nn.Linear(4, 2)\nnn.init.zeros_(m.weight)\n"
        "o = torch.optim.SGD(m.parameters(), lr=1e-6)\n"
        "for _ in range(30):\n    o.zero_grad(); nn.functional.cross_entropy(m(x), y).backward(); o.step()\n"
    )
    out = tmp_path / "r.html"
    res = subprocess.run(
        [sys.executable, "-m", "deadpan.cli", "run", "--quiet", "--html", str(out), str(script)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "deadpan: train.py" in out.read_text(encoding="utf-8")


@pytest.mark.corpus  # a demo scenario with its fix trials, 10 s: make e2e
def test_demo_writes_html(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "deadpan.cli",
            "demo",
            "--framework",
            "torch",
            "--only",
            "zero-init",
            "--html",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert (folder / "zero-init.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
