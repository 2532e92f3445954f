"""Findings, causes and the report: the plain data every way into deadpan ends in.

The JSON form is a contract (docs/design.md section 5, schema ``deadpan.report/1``): fields may be added,
never renamed or removed without a new schema version. Rendering lives in :mod:`deadpan.reports`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

SCHEMA = "deadpan.report/1"

#: The cause vocabulary (docs/design.md section 4). Every cause carries exactly one of these.
CATEGORIES: tuple[str, ...] = (
    "data.imbalance",
    "data.no_signal",
    "data.labels",
    "data.inputs",
    "data.diversity",
    "model.capacity",
    "model.output",
    "model.dead_units",
    "model.saturation",
    "init.symmetry",
    "init.scale",
    "loss.mismatch",
    "optim.lr_too_high",
    "optim.lr_too_low",
    "train.loop",
    "train.too_short",
    "train.overfit",
    "train.over_regularized",
)

VERDICTS: tuple[str, ...] = ("collapsed", "degraded", "healthy", "inconclusive")


class Severity(str, Enum):
    """How sure a finding is that something is wrong: ``error`` breaks training, ``warning`` may."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def _clean(value: Any) -> Any:
    """Make evidence JSON-safe: tuples to lists, numpy scalars to Python, NaN/inf to strings."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return round(value, 6)
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


def _plain(value: Any) -> Any:
    """A change's value as plain JSON data, floats kept exact: tuples to lists, numpy scalars to Python."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _finite(value: Any) -> Any:
    """NaN and inf as the strings JSON can hold ("nan", "inf", "-inf"); everything else as it is."""
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return _clean(value)
    return value


@dataclass(frozen=True)
class Change:
    """What a fix changes, in no framework's terms; :mod:`deadpan.phrasebook` says it in each framework's.

    ``action`` names the change ("set_learning_rate") and keys the phrasebooks. Values are stored as plain
    JSON data (tuples become lists, numpy scalars Python numbers), so a change survives the JSON report.
    """

    action: str
    #: The parameter or thing changed ("learning_rate", "weight_decay", "labels"); "" when the action says it.
    what: str = ""
    #: Its value now and the value proposed, where they are numbers or names; None when not applicable.
    current: Any = None
    proposed: Any = None
    #: The layer or module the change applies to; "" for the whole model or the training setup.
    where: str = ""
    #: Any other values the phrases need.
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "current", _plain(self.current))
        object.__setattr__(self, "proposed", _plain(self.proposed))
        object.__setattr__(self, "params", _plain(self.params))

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "what": self.what,
            "current": _finite(self.current),
            "proposed": _finite(self.proposed),
            "where": self.where,
            "params": _finite(dict(self.params)),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Change:
        return cls(
            action=d["action"],
            what=d.get("what", ""),
            current=d.get("current"),
            proposed=d.get("proposed"),
            where=d.get("where", ""),
            params=dict(d.get("params", {})),
        )


@dataclass(frozen=True)
class Finding:
    """One check's judgement: what it saw (``evidence``), why it matters (``message``), what to change."""

    code: str
    name: str
    category: str
    severity: Severity
    message: str
    fix: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    #: How strongly the evidence points at this category, 0..1; the diagnosis turns it into confidence.
    strength: float = 0.5
    #: What ``fix`` says to change, framework-neutral; None for findings made before changes were recorded.
    change: Change | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "severity": self.severity.value,
            "message": self.message,
            "evidence": _clean(self.evidence),
            "fix": self.fix,
            "strength": round(self.strength, 3),
            "change": self.change.to_dict() if self.change is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            code=d["code"],
            name=d["name"],
            category=d["category"],
            severity=Severity(d["severity"]),
            message=d["message"],
            fix=d["fix"],
            evidence=dict(d.get("evidence", {})),
            strength=float(d.get("strength", 0.5)),
            change=Change.from_dict(d["change"]) if d.get("change") is not None else None,
        )


@dataclass(frozen=True)
class Cause:
    """A ranked root cause: one category, the findings that point at it, and the fix to make."""

    category: str
    confidence: float
    summary: str
    findings: tuple[str, ...]
    fix: str
    verified: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "summary": self.summary,
            "findings": list(self.findings),
            "fix": self.fix,
            "verified": _clean(self.verified) if self.verified is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Cause:
        return cls(
            category=d["category"],
            confidence=float(d["confidence"]),
            summary=d["summary"],
            findings=tuple(d.get("findings", ())),
            fix=d["fix"],
            verified=d.get("verified"),
        )


@dataclass(frozen=True)
class Collapse:
    """How constant the output is on the probe batch; ``None`` where it could not be measured."""

    distinct_predictions: int | None = None
    majority_share: float | None = None
    output_spread_ratio: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "distinct_predictions": self.distinct_predictions,
            "majority_share": _clean(self.majority_share),
            "output_spread_ratio": _clean(self.output_spread_ratio),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Collapse:
        def num(v: Any) -> float | None:
            return None if v is None else float(v)

        dp = d.get("distinct_predictions")
        return cls(
            distinct_predictions=None if dp is None else int(dp),
            majority_share=num(d.get("majority_share")),
            output_spread_ratio=num(d.get("output_spread_ratio")),
        )


@dataclass(frozen=True)
class Skipped:
    """A check that could not run, and why: missing evidence is never reported as a pass."""

    code: str
    name: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "reason": self.reason}


@dataclass(frozen=True)
class Report:
    """The diagnosis. ``str(report)`` renders it for a terminal; :meth:`to_json` gives the contract form."""

    verdict: str
    summary: str
    collapse: Collapse
    causes: tuple[Cause, ...] = ()
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    internal_errors: tuple[str, ...] = ()
    #: Headline numbers (scores, steps, timings) shown in the report; free-form but JSON-safe.
    metrics: Mapping[str, Any] = field(default_factory=dict)
    #: What deadpan could not observe, for an ``inconclusive`` verdict.
    missing: tuple[str, ...] = ()
    #: What is wrong with the outputs, in words ("the model predicts class 0 for every input"); "" when
    #: healthy or inconclusive. The summary is built from it and the first cause.
    symptom: str = ""
    #: A script that trains several models: each model's own report (``metrics["model"]`` names it); this
    #: report is the worst verdict's of them. Empty for one model.
    models: tuple[Report, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "verdict": self.verdict,
            "summary": self.summary,
            "symptom": self.symptom,
            "collapse": self.collapse.to_dict(),
            "causes": [c.to_dict() for c in self.causes],
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [s.to_dict() for s in self.skipped],
            "internal_errors": list(self.internal_errors),
            "metrics": _clean(self.metrics),
            "missing": list(self.missing),
            "models": [m.to_dict() for m in self.models],
        }

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """The report as JSON text; also written to ``path`` when one is given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None, title: str | None = None) -> str:
        """The report as one self-contained HTML page with its plots (:mod:`deadpan.reports.html`); also
        written to ``path`` when one is given."""
        from deadpan.reports.html import render_html

        text = render_html(self, title)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text: str) -> Report:
        d = json.loads(text)
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} report (schema={d.get('schema')!r})")
        return cls._from_dict(d)

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> Report:
        return cls(
            verdict=d["verdict"],
            summary=d["summary"],
            collapse=Collapse.from_dict(d["collapse"]),
            causes=tuple(Cause.from_dict(c) for c in d.get("causes", ())),
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
            skipped=tuple(Skipped(**s) for s in d.get("skipped", ())),
            internal_errors=tuple(d.get("internal_errors", ())),
            metrics=dict(d.get("metrics", {})),
            missing=tuple(d.get("missing", ())),
            symptom=d.get("symptom", ""),
            models=tuple(cls._from_dict(m) for m in d.get("models", ())),
        )

    @property
    def top_cause(self) -> str | None:
        """The category of the first-ranked cause, or ``None`` when there is none."""
        return self.causes[0].category if self.causes else None

    def __str__(self) -> str:
        from deadpan.reports.terminal import render_plain

        return render_plain(self)

    def __rich__(self) -> Any:
        from deadpan.reports.terminal import renderable

        return renderable(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython / Jupyter
        p.text(str(self))
