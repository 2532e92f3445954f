"""Security: deadpan makes no network connection, and loads no checkpoint that could run code.

(HTML escaping of every user string is tested in ``tests/reports``: hostile layer names, titles, error
text and findings, in a page and in a real browser.)
"""

from __future__ import annotations

import ast
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deadpan.fixes.options import VerifyOptions
from deadpan.reports.terminal import print_report
from deadpan.scenarios import get
from deadpan.script.autolog import run_callable

SRC = Path(__file__).resolve().parents[2] / "src" / "deadpan"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every way Python code opens a connection or looks up a host raises, and is recorded."""
    attempts: list[str] = []

    def refuse(what: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise OSError(f"deadpan's test blocks the network ({what})")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", refuse("socket.sendto"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    yield attempts


def test_a_full_run_makes_no_network_connection(no_network: list[str], tmp_path: Path) -> None:
    """Recording, live checks, probes, checks, fix trials (``--verify``, in this process) and every report
    writer, with the network blocked: nothing tries to reach it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_callable(get("lr-too-high").train, verify=VerifyOptions(workers=1, progress=False))
    report = result.report
    assert report.verdict == "collapsed", report.summary
    assert any(c.verified for c in report.causes), "the fix trials did not run"
    report.to_json(tmp_path / "r.json")
    report.to_html(tmp_path / "r.html")
    with (tmp_path / "r.txt").open("w") as f:
        print_report(report, file=f)
    assert no_network == [], no_network
    assert not any("blocks the network" in e for e in report.internal_errors), report.internal_errors


def test_the_network_block_is_real(no_network: list[str]) -> None:
    """The fixture catches a connection attempt (so an empty list above means none was made)."""
    with pytest.raises(OSError, match="blocks the network"):
        socket.create_connection(("127.0.0.1", 9))
    assert no_network


def _calls(tree: ast.AST, dotted: str) -> Iterator[ast.Call]:
    owner, name = dotted.rsplit(".", 1)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == name
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == owner
        ):
            yield node


def test_every_checkpoint_load_is_weights_only() -> None:
    """deadpan loads checkpoints only with ``torch.load(..., weights_only=True)`` (no pickle code runs), and
    never unpickles files (``pickle.load``): its fix-trial workers exchange cloudpickle bytes in memory."""
    loads, pickles = [], []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for call in _calls(tree, "torch.load"):
            safe = any(
                k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in call.keywords
            )
            loads.append((f"{path.relative_to(SRC)}:{call.lineno}", safe))
        pickles += [f"{path.relative_to(SRC)}:{c.lineno}" for c in _calls(tree, "pickle.load")]
    assert all(safe for _, safe in loads), [where for where, safe in loads if not safe]
    assert pickles == []
