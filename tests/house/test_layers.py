"""House rules a reader cannot see at a glance: the framework-free core, the layer contract, sizes."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "deadpan"
FRAMEWORKS = ("torch", "keras", "tensorflow", "lightning", "transformers")
#: The modules that must work without any framework installed (docs/design.md, layers).
CORE = (
    "deadpan.checks",
    "deadpan.diagnosis",
    "deadpan.reports.html",
    "deadpan.reports.terminal",
    "deadpan.reports.figures",
    "deadpan.findings",
    "deadpan.evidence",
    "deadpan.pipeline",
    "deadpan.session",
    "deadpan.phrasebook",
    "deadpan.measures",
)
#: A function body (docstring excluded) and a module over these many lines is split (docs/design.md).
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400

# Imports of a framework fail in the child process, as in an environment where none is installed.
HIDE_FRAMEWORKS = textwrap.dedent(
    f"""
    import sys
    class _Hidden:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {FRAMEWORKS!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (hidden by the test)")
            return None
    sys.meta_path.insert(0, _Hidden())
    """
)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC.parent)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_core_imports_no_framework() -> None:
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE)
    code += f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])"
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


#: The modules a Keras run on TensorFlow uses, from ``deadpan run`` to the fix trials: none may import torch
#: when imported (torch alone costs some 216 MB resident). tests/keras_backend/test_without_torch.py runs
#: them.
KERAS_PATH = (
    "deadpan.cli",
    "deadpan.script.autolog",
    "deadpan.script.keras_patch",
    "deadpan.keras",
    "deadpan.keras.build",
    "deadpan.keras.session",
    "deadpan.fixes.search",
    "deadpan.fixes.verify",
    "deadpan.fixes.runner",
    "deadpan.fixes.keras_trial",
    "deadpan.fixes.catalog",
)


def test_the_keras_path_imports_no_torch() -> None:
    code = "import sys\n" + "".join(f"import {m}\n" for m in KERAS_PATH)
    code += "print([m for m in ('torch', 'keras', 'tensorflow') if m in sys.modules])"
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_core_imports_with_frameworks_hidden() -> None:
    out = _python(HIDE_FRAMEWORKS + "".join(f"import {m}\n" for m in CORE) + "print('ok')")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_hiding_works() -> None:
    """The test above would pass vacuously if hiding did nothing."""
    out = _python(HIDE_FRAMEWORKS + "import torch")
    assert out.returncode != 0
    assert "hidden by the test" in out.stderr


def test_json_report_renders_to_html_without_torch(tmp_path: Path) -> None:
    """A saved report (with findings, causes, evidence and plot data) re-renders without any framework."""
    report = _saved_report()
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    html = tmp_path / "r.html"
    code = HIDE_FRAMEWORKS + textwrap.dedent(
        f"""
        from deadpan.findings import Report
        r = Report.from_json(open({str(path)!r}, encoding="utf-8").read())
        r.to_html({str(html)!r})
        print(r.verdict, str(r).splitlines()[0])
        """
    )
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("collapsed deadpan: COLLAPSED")
    page = html.read_text()
    assert "data:image/svg+xml;base64," in page and "dead-relu-layer" in page


def _saved_report() -> dict[str, object]:
    """A report as deadpan writes it: the pipeline on hand-made evidence of a collapsed ReLU network."""
    code = textwrap.dedent(
        """
        import sys
        from dataclasses import replace
        sys.path.insert(0, TESTS)
        from factory import healthy, output_probe
        from deadpan.evidence import LayerSignal
        from deadpan.pipeline import evidence_and_report_of

        def collapsed():
            ev = healthy()
            layers = (
                LayerSignal("0", "Linear", None, spread=1.0, mean_abs=1.0, units=32),
                LayerSignal("1", "ReLU", "relu", spread=0.0, dead_fraction=1.0, mean_abs=0.0, units=32),
                LayerSignal("2", "Linear", None, spread=0.0, mean_abs=0.1, units=3),
            )
            probe = output_probe(
                distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=1 / 3
            )
            return replace(ev, probes=replace(ev.probes, layers=layers, train_output=probe))

        print(evidence_and_report_of(collapsed)[1].to_json())
        """
    ).replace("TESTS", repr(str(ROOT / "tests")))
    out = _python(code)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_layer_contract() -> None:
    """import-linter's contracts in pyproject.toml: the floors, and no framework in the core."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip("import-linter is not installed (pip install deadpan[dev])")
    out = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout[-3000:]


def _function_lengths() -> list[tuple[int, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]
            if body:
                n = (body[-1].end_lineno or 0) - body[0].lineno + 1
                found.append((n, f"{path.relative_to(SRC)}:{node.lineno} {node.name}"))
    return found


def test_functions_are_short() -> None:
    long = sorted(f for f in _function_lengths() if f[0] > MAX_FUNCTION_LINES)
    assert not long, f"function bodies over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_length_rule_sees_functions() -> None:
    assert len(_function_lengths()) > 500


def test_files_are_short() -> None:
    sizes = {p.relative_to(SRC): len(p.read_text(encoding="utf-8").splitlines()) for p in SRC.rglob("*.py")}
    long = {str(p): n for p, n in sizes.items() if n > MAX_FILE_LINES}
    assert not long, f"modules over {MAX_FILE_LINES} lines: {long}"
