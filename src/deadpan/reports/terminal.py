"""Terminal rendering: the verdict line first, then each cause with its evidence and fix.

``render_plain`` gives plain text (pipes, logs, ``str(report)``); ``renderable`` gives a rich renderable for
a colour terminal. Both say the same things in the same order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the report types sit above the renderers (docs/design.md, layers)
    from deadpan.findings import Finding, Report

VERDICT_STYLE = {
    "collapsed": "bold red",
    "degraded": "bold yellow",
    "healthy": "bold green",
    "inconclusive": "bold",
}


def _evidence_line(f: Finding, limit: int = 6) -> str:
    items = []
    for k, v in list(f.evidence.items())[:limit]:
        if isinstance(v, float):
            v = f"{v:.4g}"
        elif isinstance(v, list | tuple) and len(v) > 6:
            v = f"[{', '.join(str(x) for x in v[:6])}, ...]"
        items.append(f"{k}={v}")
    return ", ".join(items)


def _collapse_line(report: Report) -> str | None:
    c = report.collapse
    if c.distinct_predictions is None:
        return None
    parts = [f"distinct predictions {c.distinct_predictions}"]
    if c.majority_share is not None:
        parts.append(f"majority share {c.majority_share:.0%}")
    if c.output_spread_ratio is not None:
        targetless = report.metrics.get("task") in ("generative", "embedding")
        scale = "their scale" if targetless else "the targets'"
        parts.append(f"output spread {c.output_spread_ratio:.3g} of {scale}")
    m = report.metrics
    if "train_score" in m and "chance_score" in m:
        name = m.get("score_metric") or ("R²" if m.get("task") == "regression" else "balanced accuracy")
        parts.append(f"{name} {m['train_score']:.3f} (input-independent: {m['chance_score']:.3f})")
    if "heldout_score" in m:
        parts.append(f"held-out {m['heldout_score']:.3f}")
    return "; ".join(parts)


def _probe_line(report: Report) -> str | None:
    p = report.metrics.get("probes")
    if not isinstance(p, dict):
        return None
    parts = []
    if "signal_dies_at" in p:
        parts.append(f"input information is gone after layer {p['signal_dies_at']}")
    of = p.get("overfit_one_batch")
    if isinstance(of, dict):
        lo = of.get("loss", [None, None])
        state = "fits" if of.get("fitted") else "cannot fit"
        parts.append(
            f"a copy {state} one batch of 16 ({lo[0]:.3g} -> {lo[1]:.3g} in {of.get('steps')} steps)"
        )
    lr = p.get("lr_range")
    if isinstance(lr, dict) and lr.get("suggested_lr") and lr.get("user_lr"):
        parts.append(f"LR range test suggests {lr['suggested_lr']:.2g} (yours {lr['user_lr']:.2g})")
    return "; ".join(parts) or None


#: Style of a fix trial's line by its status.
TRIAL_STYLE = {"improved": "green", "no_improvement": "yellow", "failed": "red", "not_verifiable": "dim"}
TRIAL_WORD = {
    "improved": "verified",
    "no_improvement": "tried, no better than the control",
    "failed": "trial failed",
    "not_verifiable": "not verifiable",
}


def _verified_lines(verified: Any) -> list[tuple[str, str]]:
    """One line per fix trial of a cause: the best first, as the report ranks them."""
    trials = verified.get("trials") or [verified]
    out = []
    for t in sorted(trials, key=lambda t: t is not verified and t.get("fix") != verified.get("fix")):
        status = str(t.get("status", ""))
        word = TRIAL_WORD.get(status, status)
        text = t.get("headline") or ""
        if status in ("not_verifiable", "failed"):
            text = f"{t.get('title', t.get('fix'))}: {t.get('reason')}"
        out.append((TRIAL_STYLE.get(status, ""), f"   {word}: {text}"))
    return out


def lines(report: Report) -> list[tuple[str, str]]:
    """(style, text) pairs shared by the plain and rich renderers."""
    out: list[tuple[str, str]] = [
        (VERDICT_STYLE.get(report.verdict, "bold"), f"deadpan: {report.verdict.upper()}"),
        ("", report.summary),
    ]
    col = _collapse_line(report)
    if col:
        out.append(("dim", col))
    out += _cause_lines(report)
    out += _trial_summary_lines(report)
    out += _search_lines(report)
    probes = _probe_line(report)
    if probes and report.verdict != "healthy":
        out.append(("", ""))
        out.append(("dim", "probes: " + probes))
    live = report.metrics.get("live")
    if isinstance(live, dict) and "collapsed_at" in live:
        again = (
            f"; it recovered at step {live['recovered_at']}" if live.get("recovered_at") is not None else ""
        )
        out.append(
            (
                "dim",
                f"live: the output collapsed at step {live['collapsed_at']} "
                f"(alert at {live['detected_at']}){again}",
            )
        )
    if report.verdict == "healthy":
        for f in report.findings:
            out.append(("yellow", f"warning [{f.code} {f.name}] {f.message}"))
    out += _other_models_lines(report)
    out += _per_model_lines(report)
    if report.missing and report.verdict == "inconclusive":
        out.append(("", "not observed: " + "; ".join(report.missing)))
    if report.internal_errors:
        out.append(("", ""))
        out.append(
            (
                "dim",
                f"{len(report.internal_errors)} internal error(s) in deadpan (your training is unaffected):",
            )
        )
        for e in report.internal_errors[:5]:
            out.append(("dim", "   " + e.strip().splitlines()[-1]))
    return out


def _cause_lines(report: Report) -> list[tuple[str, str]]:
    """Each cause, ranked: its findings with their evidence, its fix, and its fix trials."""
    out: list[tuple[str, str]] = []
    by_code = {f.code: f for f in report.findings}
    for i, cause in enumerate(report.causes, 1):
        out.append(("", ""))
        out.append(("bold", f"{i}. {cause.category}  (confidence {cause.confidence:.2f})"))
        for code in cause.findings:
            f = by_code.get(code)
            if f is None:
                continue
            out.append(("", f"   [{f.code} {f.name}] {f.message}"))
            ev = _evidence_line(f)
            if ev:
                out.append(("dim", f"   evidence: {ev}"))
        out.append(("cyan", f"   fix: {cause.fix}"))
        if cause.verified is not None:
            out += _verified_lines(cause.verified)
    return out


def _trial_summary_lines(report: Report) -> list[tuple[str, str]]:
    """How the fix trials ran (or why they could not), and the verified fixes together."""
    trials = report.metrics.get("verification")
    if not isinstance(trials, dict):
        return []
    out: list[tuple[str, str]] = [("", "")]
    if trials.get("not_verifiable"):
        out.append(("dim", f"fix trials: not verifiable: {trials['not_verifiable']}"))
        return out
    control = trials.get("control") or {}
    out.append(
        (
            "dim",
            f"fix trials: each fix trained on a copy for the control's {control.get('steps')} steps "
            f"(judged on {control.get('heldout_rows')} held-out rows) in {trials.get('runner')}, "
            f"{trials.get('seconds')} s",
        )
    )
    combined = trials.get("combined")
    if isinstance(combined, dict) and combined.get("headline"):
        word = TRIAL_WORD.get(str(combined.get("status")), str(combined.get("status")))
        style = TRIAL_STYLE.get(str(combined.get("status")), "")
        out.append((style, f"all verified fixes together, {word}: {combined['headline']}"))
    return out


def _search_lines(report: Report) -> list[tuple[str, str]]:
    """What the intervention search tried, and what restored learning (or why it did not run)."""
    search = report.metrics.get("search")
    if not isinstance(search, dict):
        return []
    if search.get("not_searched"):
        return [("", ""), ("dim", f"search: not run: {search['not_searched']}")]
    tried = search.get("tried") or []
    won = [t["fix"] for t in tried if t.get("status") == "improved"]
    result = f"restored by {', '.join(won)}" if won else "no intervention restored learning"
    return [
        ("", ""),
        (
            "dim",
            f"search: {len(tried)} intervention(s) trained on copies in {search.get('seconds')} s "
            f"(budget {search.get('budget_seconds')} s): {result}",
        ),
    ]


def _other_models_lines(report: Report) -> list[tuple[str, str]]:
    """The other models a Keras script trained, which the report does not cover."""
    others = report.metrics.get("other_models")
    if not isinstance(others, list) or not others:
        return []
    shown = ", ".join(f"{o.get('name')} ({o.get('steps')} steps)" for o in others if isinstance(o, dict))
    return [
        ("", ""),
        (
            "dim",
            f"this report covers model {report.metrics.get('model', '?')}, the one that trained most; "
            f"also trained, not diagnosed: {shown} (add deadpan.keras.DeadpanCallback to its fit to "
            "see it)",
        ),
    ]


def _per_model_lines(report: Report) -> list[tuple[str, str]]:
    """A script that trained several models: which one this report is about, and each one's verdict."""
    if not report.models:
        return []
    out = [("", ""), ("", f"this report is about {report.metrics.get('model', '?')}; every model trained:")]
    for m in report.models:
        why = m.summary if m.verdict != "healthy" else ""
        cause = f" [{m.top_cause}]" if m.top_cause else ""
        line = f"  {m.metrics.get('model', '?')}: {m.verdict.upper()}{cause} {why}".rstrip()
        out.append((VERDICT_STYLE.get(m.verdict, ""), line))
    return out


def render_plain(report: Report) -> str:
    return "\n".join(text for _, text in lines(report))


def renderable(report: Report) -> Any:
    from rich.text import Text

    text = Text()
    for i, (style, line) in enumerate(lines(report)):
        if i:
            text.append("\n")
        text.append(line, style=style or None)
    return text


def print_report(report: Report, file: Any = None) -> None:
    """Print with colour on a terminal, plain otherwise (rich decides from the stream)."""
    import sys

    from rich.console import Console

    console = Console(file=file or sys.stderr, highlight=False, soft_wrap=True)
    console.print(renderable(report))
