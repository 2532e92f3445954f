"""The report as one self-contained HTML file: verdict, causes, and the plots a person looks at first.

No network, no scripts, no external fonts or images: the styles are inline and each plot is an SVG drawn by
matplotlib (the Agg-free SVG backend, text as paths) and embedded as a ``data:`` image, so the file reads the
same offline, by e-mail or as a CI artifact, with JavaScript off. An SVG inside ``<img>`` can run no script,
and every string from the user's run (layer and class names, paths, messages, exception text) goes through
:func:`html.escape`.

Everything drawn comes from the report itself (``metrics["figures"]``, :mod:`deadpan.reports.figures`), so a
report read back from JSON draws the same page. The plots are drawn in :mod:`deadpan.reports.plots`; this
module lays out the page and writes its text sections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deadpan.reports.plots import curve_plots, data_plots, depth_plot, escape, prediction_plot

if TYPE_CHECKING:
    from deadpan.findings import Report

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
                items.append(f"<li><code>{escape(f.code)} {escape(f.name)}</code> {escape(f.message)}</li>")
        verified = ""
        v = cause.verified
        if v:
            css = "verified" if v.get("improved") else "tried"
            label = "verified" if v.get("improved") else "tried, no better than the control"
            if v.get("status") == "not_verifiable":
                label = "not verifiable"
            verified = f'<p class="{css}">{escape(label)}: {escape(v.get("headline", ""))}</p>'
        fix = f'<div class="fix"><b>Fix:</b> {escape(cause.fix)}</div>' if cause.fix else ""
        parts.append(
            f'<div class="cause"><h3>{i}. {escape(cause.category)} '
            f'<span class="muted">(confidence {cause.confidence:.2f})</span></h3>'
            f"<ul>{''.join(items)}</ul>{fix}{verified}</div>"
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
                f"<tr><td>{escape(cause.category)}</td><td>{escape(t.get('title', t.get('fix')))}</td>"
                f"<td>{escape(t.get('status'))}</td><td>{distinct}</td><td>{score}</td>"
                f"<td>{escape(t.get('budget') or '')}</td><td>{escape(t.get('reason') or '')}</td></tr>"
            )
    if not rows:
        return ""
    meta = report.metrics.get("verification", {})
    control = meta.get("control") or {}
    start, steps = escape(control.get("starts_from", "")), escape(control.get("steps", ""))
    rows_held, runner = escape(control.get("heldout_rows", "")), escape(meta.get("runner", ""))
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
        parts.append("<p><b>Not observed:</b> " + escape("; ".join(report.missing)) + "</p>")
    if report.skipped:
        items = "".join(
            f"<li><code>{escape(s.code)} {escape(s.name)}</code> {escape(s.reason)}</li>"
            for s in report.skipped
        )
        parts.append(
            f"<details><summary>Checks skipped ({len(report.skipped)})</summary><ul>{items}</ul></details>"
        )
    if report.internal_errors:
        items = "".join(f"<li><pre>{escape(e)}</pre></li>" for e in report.internal_errors)
        parts.append(f"<details><summary>deadpan's internal errors</summary><ul>{items}</ul></details>")
    return "".join(parts)


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{escape(title)}</h2>{body}</section>' if body else ""


def render_html(report: Report, title: str | None = None) -> str:
    """The report as a self-contained HTML page."""
    fig = dict(report.metrics.get("figures") or {})
    colour = _COLOURS.get(report.verdict, "#555")
    name = title or "deadpan report"
    sections = [
        _section("causes", "Causes", _causes(report)),
        _section("predictions", "Predictions against targets", prediction_plot(fig)),
        _section("depth", "Signal through depth", depth_plot(fig)),
        _section("training", "Training curves", curve_plots(fig, report.metrics.get("live") or {})),
        _section("data", "Data", data_plots(fig)),
        _section("trials", "Fix trials", _trials(report)),
        _section("details", "Details", _details(report)),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">"
        f"<title>{escape(name)}</title><style>{_STYLE}</style></head><body>"
        f"<header id='verdict'><h1>{escape(name)}</h1>"
        f"<span class='verdict' style='background:{colour}'>{escape(report.verdict.upper())}</span>"
        f"<p class='summary'>{escape(report.summary)}</p></header>" + "".join(sections) + "</body></html>\n"
    )
