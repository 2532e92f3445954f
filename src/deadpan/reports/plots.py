"""The plots of the HTML report (:mod:`deadpan.reports.html`), each an SVG drawn by matplotlib in a
``<figure>`` with its caption: predictions against targets, signal through depth, training curves, the data.

Each plot is drawn from the report's plot data (``metrics["figures"]``, :mod:`deadpan.reports.figures`) with
the SVG backend (text as paths) and embedded as a ``data:`` image, so the page needs no script, font or
network. Every string from the user's run goes through :func:`escape`.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from deadpan.measures import signal_dies_at

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Layer spread below which the input's information is taken to be gone (the output is the same for every
#: input to within 1%): the layer marked in "signal through depth".
SIGNAL_DIES = 1e-2


def escape(value: Any) -> str:
    """``value`` as text safe inside HTML, attribute values included."""
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
        f'<figure id="{escape(plot_id)}"><img class="plot" alt="{escape(alt)}" src="{_svg(draw)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _vals(values: Sequence[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def prediction_plot(fig: dict[str, Any]) -> str:
    """Predictions against targets: a scatter for values, bars per class for classes."""
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


def depth_plot(fig: dict[str, Any]) -> str:
    """Each layer's output spread across samples, where the input's information dies, and the layers mostly
    dead or saturated."""
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
    notes = "".join(f"<p class='muted'>{escape(', '.join(group))}</p>" for group in (dead, sat) if group)
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


def curve_plots(fig: dict[str, Any], live: dict[str, Any]) -> str:
    """The training curves: loss over steps (with the live collapse alert), gradient norm and update ratio,
    and the gradient norm per layer."""
    curves = fig.get("curves")
    if not curves:
        return ""
    parts = [_loss_plot(curves, live), _gradient_plot(curves), _layer_gradient_plot(fig.get("layer_grad"))]
    return "".join(parts)


def _loss_plot(curves: dict[str, Any], live: dict[str, Any]) -> str:
    """Loss over optimizer steps, held-out loss beside it, and the step where the live check saw the output
    collapse."""
    collapsed_at = live.get("collapsed_at")
    steps, loss = curves["steps"], _vals(curves["loss"])
    lr = curves.get("lr")

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
            f" The live check saw the output collapse at step {escape(collapsed_at)} "
            f"(alert at step {escape(live.get('detected_at'))})."
        )
    return _figure("plot-loss", "training loss over steps", draw_loss, "Loss over optimizer steps." + lr_text)


def _gradient_plot(curves: dict[str, Any]) -> str:
    """Gradient norm and update-to-weight ratio over the sampled steps (none recorded: no plot)."""
    series = [(k, curves[k]) for k in ("grad_norm", "update_ratio") if curves.get(k)]
    if not series:
        return ""

    def draw_grad(ax: Axes) -> None:
        for name, values in series:
            ax.plot(range(len(values)), _vals(values), label=name.replace("_", " "))
        ax.set_yscale("log")
        ax.set_xlabel("sampled step")
        ax.legend(loc="best", fontsize=8)

    return _figure(
        "plot-gradients",
        "gradient norm and update ratio",
        draw_grad,
        "Gradient norm and update-to-weight ratio at the sampled steps (rule of thumb: ratio about 1e-3).",
    )


def _layer_gradient_plot(layer_grad: dict[str, float] | None) -> str:
    """The median gradient norm of each layer (none recorded: no plot)."""
    if not layer_grad:
        return ""
    names, values = list(layer_grad), list(layer_grad.values())

    def draw_layers(ax: Axes) -> None:
        ax.bar(range(len(values)), [max(v, 1e-12) for v in values])
        ax.set_yscale("log")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([n[:18] for n in names], rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("gradient norm")

    return _figure(
        "plot-layer-gradients", "gradient norm per layer", draw_layers, "Median gradient norm per layer."
    )


def data_plots(fig: dict[str, Any]) -> str:
    """The captured training data: class balance, and the scale of each input feature (or channel)."""
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
