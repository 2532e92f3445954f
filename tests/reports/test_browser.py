"""The HTML report in a real browser (headless Chromium): no console errors, every section and plot
visible, a screenshot saved; a layer named like a script runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from deadpan.scenarios.registry import get
from deadpan.script.autolog import run_callable

from .browser import chromium, open_page
from .kit import EVIL, train_with_script_named_layer

pytest.importorskip("matplotlib")
pytest.importorskip("websockets")
pytestmark = pytest.mark.skipif(
    chromium() is None,
    reason="headless Chromium is not installed (`apt-get install chromium`; make test installs it where it "
    "can)",
)


@pytest.mark.parametrize("name", ["zero-init", "healthy-regression", "softmax-into-cross-entropy"])
def test_the_report_renders_without_errors_and_shows_every_plot(name: str, tmp_path: Path) -> None:
    page = tmp_path / f"{name}.html"
    run_callable(get(name).train).report.to_html(page, title=name)
    shot = tmp_path / f"{name}.png"
    result = open_page(page, shot, tmp_path / "profile")
    assert result.errors == [] and result.dialogs == []
    layout = result.layout
    sections = {s["id"]: s for s in layout["sections"]}
    for sid in ("verdict", "causes", "predictions", "depth", "training", "data"):
        assert sid in sections and sections[sid]["visible"] and sections[sid]["height"] > 20, sid
    assert len(layout["plots"]) >= 5
    for plot in layout["plots"]:
        assert plot["loaded"] and plot["width"] > 200 and plot["height"] > 80, plot
    assert layout["scripts"] == 0
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_layer_named_like_a_script_runs_nothing(tmp_path: Path) -> None:

    page = tmp_path / "evil.html"
    run_callable(train_with_script_named_layer).report.to_html(page, title=EVIL)
    result = open_page(page, tmp_path / "evil.png", tmp_path / "profile")
    assert result.dialogs == [] and result.errors == []
    assert result.layout["scripts"] == 0
