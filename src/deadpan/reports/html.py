"""The report as one self-contained HTML file: verdict, causes, and the plots a person looks at first.

No network, no scripts, no external fonts or images: the styles are inline and each plot is an SVG drawn by
matplotlib (the Agg-free SVG backend, text as paths) and embedded as a ``data:`` image, so the file reads the
same offline, by e-mail or as a CI artifact, with JavaScript off. An SVG inside ``<img>`` can run no script,
and every string from the user's run (layer and class names, paths, messages, exception text) goes through
:func:`html.escape`.

Everything drawn comes from the report itself (``metrics["figures"]``, :mod:`deadpan.reports.figures`), so a
report read back from JSON draws the same page.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from deadpan.capture.probes.layers import signal_dies_at

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from deadpan.findings import Report

#: Layer spread below which the input's information is taken to be gone (the output is the same for every
#: input to within 1%): the layer marked in "signal through depth".
SIGNAL_DIES = 1e-2

_COLOURS = {"collapsed": "#b3261e", "degraded": "#b26a00", "healthy": "#1b7f3b", "inconclusive": "#555"}

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:980px;
padding:24px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.verdict{display:inline-block;color:#fff;border-radius:4px;padding:2px 10px;font-weight:600;
letter-spacing:.04em}
.summary{font-size:16px;margin:12px 0}
.cause{border:1px solid #e3e3e3;border-radius:6px;padding:10px 14px;margin:10px 0}
.cause h3{font-size:16px;margin:0 0 6px}.muted{color:#666}
.fix{background:#f4f8f4;border-left:3px solid #1b7f3b;padding:6px 10px;margin:6px 0}
.verified{color:#1b7f3b;font-weight:600}.tried{color:#8a5a00}
code{font:13px ui-monospace,Menlo,Consolas,monospace;background:#f3f3f3;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:14px}figure{margin:10px 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:13px}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _svg(draw: Callable[[Axes], None], width: float = 7.5, height: float = 3.2) -> str:
    """A plot as an SVG ``data:`` URI. ``draw`` fills one set of axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    draw(fig.add_subplot())
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue().encode("utf-8")).decode("ascii")


def _figure(plot_id: str, alt: str, draw: Callable[[Axes], None], caption: str) -> str:
    return (
        f'<figure id="{_e(plot_id)}"><img class="plot" alt="{_e(alt)}" src="{_svg(draw)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _vals(values: Sequence[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


# --- sections ---------------------------------------------------------------------------------------------


def _causes(report: Report) -> str:
    if not report.causes:
        return (
            '<p class="muted">No cause: nothing wrong was found.</p>' if report.verdict == "healthy" else ""
        )
    by_code = {f.code: f for f in report.findings}
    parts = []
    for i, cause in enumerate(report.causes, 1):
        items = []
        for code in cause.findings:
            f = by_code.get(code)
            if f is not None:
                items.append(f"<li><code>{_e(f.code)} {_e(f.name)}</code> {_e(f.message)}</li>")
        verified = ""
        v = cause.verified
        if v:
            css = "verified" if v.get("improved") else "tried"
            label = "verified" if v.get("improved") else "tried, no better than the control"
            if v.get("status") == "not_verifiable":
                label = "not verifiable"
            verified = f'<p class="{css}">{_e(label)}: {_e(v.get("headline", ""))}</p>'
        fix = f'<div class="fix"><b>Fix:</b> {_e(cause.fix)}</div>' if cause.fix else ""
        parts.append(
            f'<div class="cause"><h3>{i}. {_e(cause.category)} '
            f'<span class="muted">(confidence {cause.confidence:.2f})</span></h3>'
            f"<ul>{''.join(items)}</ul>{fix}{verified}</div>"
        )
    return "".join(parts)


def _predictions(fig: dict[str, Any]) -> str:
    pred = fig.get("predictions")
    if not pred:
        return ""
    split = pred.get("split", "")
    if pred.get("pairs"):
        xs = [p[1] for p in pred["pairs"]]
        ys = [p[0] for p in pred["pairs"]]

        def scatter(ax: Axes) -> None:
            ax.scatter(xs, ys, s=8, alpha=0.6)
            lo, hi = min(xs + ys), max(xs + ys)
            ax.plot([lo, hi], [lo, hi], color="#999", lw=1, ls="--", label="prediction = target")
            ax.set_xlabel("target")
            ax.set_ylabel("prediction")
            ax.legend(loc="best", fontsize=8)

        return _figure(
            "plot-predictions",
            "predictions against targets",
            scatter,
            f"Predictions against targets ({split} rows; first output). A flat cloud is a constant answer.",
        )
    predicted, true = pred.get("predicted", []), pred.get("true", [])
    k = max(len(predicted), len(true))

    def bars(ax: Axes) -> None:
        idx = list(range(k))
        ax.bar([i - 0.2 for i in idx], (true + [0] * k)[:k], width=0.4, label="targets")
        ax.bar([i + 0.2 for i in idx], (predicted + [0] * k)[:k], width=0.4, label="predictions")
        ax.set_xlabel("class")
        ax.set_ylabel("samples")
        if k <= 30:
            ax.set_xticks(idx)
        ax.legend(loc="best", fontsize=8)

    return _figure(
        "plot-predictions",
        "predicted classes against target classes",
        bars,
        f"How many {split} samples each class is predicted for, next to how many carry it as target.",
    )


def _depth(fig: dict[str, Any]) -> str:
    layers = fig.get("layers")
    if not layers:
        return ""
    names = [str(layer["name"]) or str(layer["kind"]) for layer in layers]
    spread = _vals([layer["spread"] for layer in layers])
    dies = signal_dies_at(spread, SIGNAL_DIES)

    def draw(ax: Axes) -> None:
        ax.plot(
            range(len(spread)), [max(s, 1e-6) if math.isfinite(s) else float("nan") for s in spread], "o-"
        )
        ax.set_yscale("log")
        ax.axhline(SIGNAL_DIES, color="#b3261e", lw=1, ls=":")
        if dies is not None:
            ax.axvline(dies, color="#b3261e", lw=1.5)
            ax.annotate(
                "signal dies", (dies, SIGNAL_DIES), xytext=(5, 10), textcoords="offset points", fontsize=8
            )
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([n[:18] for n in names], rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("across-sample spread")

    where = (
        f"; the input's information is gone after layer {dies + 1}, {names[dies]}" if dies is not None else ""
    )
    dead = [
        f"{n} ({layer['dead']:.0%} dead)"
        for n, layer in zip(names, layers, strict=True)
        if layer["dead"] > 0.5
    ]
    sat = [
        f"{n} ({layer['saturated']:.0%} saturated)"
        for n, layer in zip(names, layers, strict=True)
        if layer["saturated"] > 0.5
    ]
    notes = "".join(f"<p class='muted'>{_e(', '.join(group))}</p>" for group in (dead, sat) if group)
    return (
        _figure(
            "plot-depth",
            "signal through depth",
            draw,
            "Each layer's output spread across samples, relative to its size (0: the same for every input)"
            + where
            + ".",
        )
        + notes
    )


def _curves(fig: dict[str, Any], live: dict[str, Any]) -> str:
    curves = fig.get("curves")
    if not curves:
        return ""
    collapsed_at = live.get("collapsed_at")
    steps, loss = curves["steps"], _vals(curves["loss"])
    lr = curves.get("lr")
    parts = []

    def draw_loss(ax: Axes) -> None:
        ax.plot(steps, loss, label="training loss")
        held = curves.get("heldout_loss")
        if held:
            hs = [round(steps[-1] * (i + 1) / len(held)) for i in range(len(held))] if steps else []
            ax.plot(hs, _vals(held), "o-", label="held-out loss")
        if isinstance(collapsed_at, int | float):
            ax.axvline(collapsed_at, color="#b3261e", lw=1.5, label="output collapsed (live alert)")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        if all(v > 0 for v in loss if math.isfinite(v)) and loss:
            finite = [v for v in loss if math.isfinite(v)]
            if finite and max(finite) / max(min(finite), 1e-12) > 50:
                ax.set_yscale("log")
        ax.legend(loc="best", fontsize=8)

    lr_text = f" Learning rate {lr:.3g} ({curves.get('optimizer', '')})." if lr is not None else ""
    if isinstance(collapsed_at, int | float):
        lr_text += (
            f" The live check saw the output collapse at step {_e(collapsed_at)} "
            f"(alert at step {_e(live.get('detected_at'))})."
        )
    parts.append(
        _figure("plot-loss", "training loss over steps", draw_loss, "Loss over optimizer steps." + lr_text)
    )
    series = [(k, curves[k]) for k in ("grad_norm", "update_ratio") if curves.get(k)]
    if series:

        def draw_grad(ax: Axes) -> None:
            for name, values in series:
                ax.plot(range(len(values)), _vals(values), label=name.replace("_", " "))
            ax.set_yscale("log")
            ax.set_xlabel("sampled step")
            ax.legend(loc="best", fontsize=8)

        parts.append(
            _figure(
                "plot-gradients",
                "gradient norm and update ratio",
                draw_grad,
                "Gradient norm and update-to-weight ratio at the sampled steps (rule of thumb: ratio about "
                "1e-3).",
            )
        )
    layer_grad = fig.get("layer_grad")
    if layer_grad:
        names, values = list(layer_grad), list(layer_grad.values())

        def draw_layers(ax: Axes) -> None:
            ax.bar(range(len(values)), [max(v, 1e-12) for v in values])
            ax.set_yscale("log")
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels([n[:18] for n in names], rotation=60, ha="right", fontsize=7)
            ax.set_ylabel("gradient norm")

        parts.append(
            _figure(
                "plot-layer-gradients",
                "gradient norm per layer",
                draw_layers,
                "Median gradient norm per layer.",
            )
        )
    return "".join(parts)


def _data(fig: dict[str, Any]) -> str:
    parts = []
    classes = fig.get("classes")
    if classes:

        def draw_classes(ax: Axes) -> None:
            ax.bar(range(len(classes)), classes)
            ax.set_xlabel("class")
            ax.set_ylabel("training samples")

        share = max(classes) / max(sum(classes), 1)
        parts.append(
            _figure(
                "plot-classes",
                "class balance",
                draw_classes,
                f"Class balance of the captured training targets (largest class: {share:.0%}).",
            )
        )
    inputs = fig.get("inputs")
    if inputs and inputs.get("std"):
        std, mean = _vals(inputs["std"]), _vals(inputs["mean"])

        def draw_inputs(ax: Axes) -> None:
            idx = range(len(std))
            ax.bar(
                idx, [abs(m) if math.isfinite(m) else float("nan") for m in mean], alpha=0.5, label="|mean|"
            )
            ax.plot(idx, std, "o", ms=3, color="#b3261e", label="std")
            ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_xlabel(inputs.get("per", "feature"))
            ax.legend(loc="best", fontsize=8)

        shown = f"first {len(std)} of {inputs['n']}" if inputs["n"] > len(std) else f"all {inputs['n']}"
        parts.append(
            _figure(
                "plot-inputs",
                "input scale",
                draw_inputs,
                f"Input scale per {inputs.get('per', 'feature')} ({shown}): standardized inputs sit near "
                "mean 0, std 1.",
            )
        )
    return "".join(parts)


def _trials(report: Report) -> str:
    rows = []
    for cause in report.causes:
        v = cause.verified or {}
        for t in v.get("trials", []):
            before, after = t.get("before") or {}, t.get("after") or {}
            score = (
                f"{before.get('score', float('nan')):.2f} &rarr; {after.get('score', float('nan')):.2f}"
                if before and after
                else ""
            )
            distinct = (
                f"{before.get('distinct_predictions')} &rarr; {after.get('distinct_predictions')}"
                if before and after
                else ""
            )
            rows.append(
                f"<tr><td>{_e(cause.category)}</td><td>{_e(t.get('title', t.get('fix')))}</td>"
                f"<td>{_e(t.get('status'))}</td><td>{distinct}</td><td>{score}</td>"
                f"<td>{_e(t.get('budget') or '')}</td><td>{_e(t.get('reason') or '')}</td></tr>"
            )
    if not rows:
        return ""
    meta = report.metrics.get("verification", {})
    control = meta.get("control") or {}
    start, steps = _e(control.get("starts_from", "")), _e(control.get("steps", ""))
    rows_held, runner = _e(control.get("heldout_rows", "")), _e(meta.get("runner", ""))
    head = (
        f"<p class='muted'>Control: {start}, {steps} steps, judged on {rows_held} held-out rows; "
        f"runner: {runner}.</p>"
    )
    return (
        head
        + "<table><tr><th>cause</th><th>fix</th><th>result</th><th>distinct predictions</th><th>score</th>"
        "<th>steps</th><th>note</th></tr>" + "".join(rows) + "</table>"
    )


def _details(report: Report) -> str:
    parts = []
    if report.missing:
        parts.append("<p><b>Not observed:</b> " + _e("; ".join(report.missing)) + "</p>")
    if report.skipped:
        items = "".join(
            f"<li><code>{_e(s.code)} {_e(s.name)}</code> {_e(s.reason)}</li>" for s in report.skipped
        )
        parts.append(
            f"<details><summary>Checks skipped ({len(report.skipped)})</summary><ul>{items}</ul></details>"
        )
    if report.internal_errors:
        items = "".join(f"<li><pre>{_e(e)}</pre></li>" for e in report.internal_errors)
        parts.append(f"<details><summary>deadpan's internal errors</summary><ul>{items}</ul></details>")
    return "".join(parts)


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{_e(title)}</h2>{body}</section>' if body else ""


def render_html(report: Report, title: str | None = None) -> str:
    """The report as a self-contained HTML page."""
    fig = dict(report.metrics.get("figures") or {})
    colour = _COLOURS.get(report.verdict, "#555")
    name = title or "deadpan report"
    sections = [
        _section("causes", "Causes", _causes(report)),
        _section("predictions", "Predictions against targets", _predictions(fig)),
        _section("depth", "Signal through depth", _depth(fig)),
        _section("training", "Training curves", _curves(fig, report.metrics.get("live") or {})),
        _section("data", "Data", _data(fig)),
        _section("trials", "Fix trials", _trials(report)),
        _section("details", "Details", _details(report)),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">"
        f"<title>{_e(name)}</title><style>{_STYLE}</style></head><body>"
        f"<header id='verdict'><h1>{_e(name)}</h1>"
        f"<span class='verdict' style='background:{colour}'>{_e(report.verdict.upper())}</span>"
        f"<p class='summary'>{_e(report.summary)}</p></header>" + "".join(sections) + "</body></html>\n"
    )
