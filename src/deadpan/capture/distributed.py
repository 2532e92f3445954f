"""Distributed data-parallel training: every rank records and diagnoses its own shard; rank 0 reports for all.

Under ``torch.distributed`` each process sees one shard of the data, so a fault can live on one rank only
(its labels all one class, its inputs unscaled). Each rank therefore diagnoses what it saw, in parallel with
the others, and sends its report to rank 0 through the key-value store of the process group the user created
(gloo or NCCL alike: the store needs no collective call, so a rank that died or took another path makes rank 0
wait :data:`EXCHANGE_TIMEOUT_S` at most, never forever). Rank 0 merges: when every rank agrees, its own
report with a table of the ranks; when they differ, the worst rank's report, its findings naming the rank.

Reports travel as deadpan's own JSON (``Report.to_dict``), not pickles.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from torch import nn

from deadpan.findings import Cause, Finding, Report

#: How long rank 0 waits for the other ranks' reports (each diagnoses its own shard meanwhile).
EXCHANGE_TIMEOUT_S = 600.0

#: Worst first: the merged report leads with the rank whose shard looks worst.
_SEVERITY = {"collapsed": 3, "degraded": 2, "healthy": 1, "inconclusive": 0}

#: Exchanges so far in this process (a script may close several ``watch`` blocks): keys stay distinct.
_exchanges = 0


@dataclass(frozen=True)
class World:
    rank: int
    size: int


def world() -> World | None:
    """This process's rank and the world size, when a process group of more than one rank is up."""
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            return World(dist.get_rank(), dist.get_world_size())
    except Exception:
        pass
    return None


def unwrap(model: nn.Module) -> nn.Module:
    """The user's module inside a data-parallel wrapper (DistributedDataParallel, DataParallel).

    deadpan follows and probes the inner module: probing the wrapper would run its gradient all-reduce on one
    rank only, and wait forever for the others.
    """
    seen = 0
    while seen < 8 and type(model).__name__ in ("DistributedDataParallel", "DataParallel"):
        inner = getattr(model, "module", None)
        if not isinstance(inner, nn.Module):
            break
        model, seen = inner, seen + 1
    return model


def _store() -> Any:
    from torch.distributed import distributed_c10d

    return distributed_c10d._get_default_store()


def announce() -> None:
    """Tell rank 0 this rank runs deadpan (once the group is up): rank 0 waits only for ranks that said so. A
    rank started without deadpan (e.g. Lightning's re-launch of the script in a plain ``python``) never sends
    a report, and rank 0 must not wait for one."""
    w = world()
    if w is None:
        return
    with contextlib.suppress(Exception):
        _store().set(f"deadpan/present/{w.rank}", "1")


def exchange(report: Report, w: World, timeout_s: float = EXCHANGE_TIMEOUT_S) -> Report:
    """Send this rank's report to rank 0; on rank 0, the merged report of all ranks (on the others, their own
    report marked as sent). Never raises: a failure leaves each rank with its own report and the error."""
    global _exchanges
    _exchanges += 1
    prefix = f"deadpan/report/{_exchanges}/"
    try:
        store = _store()
        if w.rank != 0:
            store.set(prefix + str(w.rank), report.to_json(indent=0))
            return _with_distributed(report, {"world_size": w.size, "rank": w.rank, "reported_by": 0})
        others = _collect(store, prefix, w.size, timeout_s)
    except Exception as exc:
        note = f"distributed: could not exchange reports with the other ranks ({type(exc).__name__}: {exc})"
        return replace(report, internal_errors=(*report.internal_errors, note))
    return merge({0: report, **others}, w.size)


def _collect(store: Any, prefix: str, size: int, timeout_s: float) -> dict[int, Report | None]:
    """The other ranks' reports; None for a rank that runs without deadpan or sent none within
    ``timeout_s``."""
    keys = {r: prefix + str(r) for r in range(1, size)}
    deadline = time.monotonic() + timeout_s
    out: dict[int, Report | None] = {}
    for r, key in keys.items():
        if not store.check([f"deadpan/present/{r}"]):
            out[r] = None
            continue
        left = max(0.001, deadline - time.monotonic())
        try:
            store.wait([key], timedelta(seconds=left))
            raw = store.get(key)
            out[r] = Report.from_json(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
            store.delete_key(key)
        except Exception:
            out[r] = None
    return out


def _with_distributed(report: Report, info: dict[str, Any]) -> Report:
    return replace(report, metrics={**report.metrics, "distributed": info})


def _rank_row(rank: int, rep: Report | None) -> dict[str, Any]:
    if rep is None:
        return {"rank": rank, "verdict": "missing", "summary": "sent no report (no deadpan, or too late)"}
    return {
        "rank": rank,
        "verdict": rep.verdict,
        "summary": rep.summary,
        "top_cause": rep.causes[0].category if rep.causes else None,
        "steps": rep.metrics.get("steps"),
    }


def _on_rank(rank: int, text: str) -> str:
    return f"rank {rank}: {text}"


def _finding_on_rank(f: Finding, rank: int) -> Finding:
    return replace(f, message=_on_rank(rank, f.message), evidence={**f.evidence, "rank": rank})


#: Appended to a data cause found on some ranks only: the shards differ, so the split is the suspect.
SHARD_HINT = (
    "Only some ranks' shards show this: check how the data is split across ranks, e.g. "
    "DataLoader(dataset, sampler=DistributedSampler(dataset, shuffle=True)) and sampler.set_epoch(epoch) "
    "each epoch, rather than slicing a sorted dataset by rank."
)


def merge(reports: dict[int, Report | None], size: int) -> Report:
    """One report for the whole run from each rank's report of its own shard (rank 0's is never None)."""
    own = reports[0]
    assert own is not None
    rows = [_rank_row(r, reports.get(r)) for r in range(size)]
    got = {r: rep for r, rep in reports.items() if rep is not None}
    info: dict[str, Any] = {"world_size": size, "reported_by": 0, "ranks": rows}
    errors = list(own.internal_errors)
    for r, rep in sorted(got.items()):
        if r != 0:
            errors += [_on_rank(r, e) for e in rep.internal_errors]
    missing = [r for r in range(size) if r not in got]
    if missing:
        errors.append(
            f"distributed: no report from rank(s) {', '.join(map(str, missing))} (started without deadpan, "
            f"or not done within {EXCHANGE_TIMEOUT_S:.0f} s)"
        )

    def shape(rep: Report) -> tuple[str, tuple[str, ...]]:
        return rep.verdict, tuple(c.category for c in rep.causes[:1])

    if all(shape(rep) == shape(own) for rep in got.values()):
        info["agree"] = True
        return replace(_with_distributed(own, info), internal_errors=tuple(errors))
    # The shards disagree: lead with the worst (lowest rank among equals), saying which ranks it holds for.
    worst = max(got, key=lambda r: (_SEVERITY.get(got[r].verdict, 0), -r))
    base = got[worst]
    same = [r for r in sorted(got) if shape(got[r]) == shape(base)]
    others = [r for r in sorted(got) if r not in same]
    info["agree"] = False
    info["worst_ranks"] = same
    where = f"rank {same[0]}'s shard" if len(same) == 1 else f"ranks {', '.join(map(str, same))}' shards"
    rest = "; ".join(f"rank {r}: {got[r].verdict}" for r in others)
    summary = f"On {where} only ({rest}): {base.summary}"
    causes = tuple(_cause_on_ranks(c, same) for c in base.causes)
    findings = tuple(_finding_on_rank(f, same[0]) for f in base.findings)
    merged = replace(
        base,
        summary=summary,
        symptom=_on_rank(same[0], base.symptom) if base.symptom else "",
        causes=causes,
        findings=findings,
        internal_errors=tuple(errors),
    )
    return _with_distributed(merged, info)


def _cause_on_ranks(c: Cause, ranks: list[int]) -> Cause:
    label = "rank " + ", ".join(map(str, ranks))
    fix = f"{c.fix.rstrip('. ')}. {SHARD_HINT}" if c.category.startswith("data.") and c.fix else c.fix
    return replace(c, summary=f"{label}: {c.summary}", fix=fix)
