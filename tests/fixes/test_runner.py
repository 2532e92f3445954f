"""Runners: the same trial gives the same numbers in this process and in a local pool; Ray's absence or an
unreachable address is a clear error."""

from __future__ import annotations

import importlib.util

import pytest

from deadpan.fixes.runner import Auto, InProcess, LocalPool, RunnerUnavailable, TrialJob, make_runner

from .kit import mlp, setup


def _jobs() -> list[TrialJob]:
    return [
        TrialJob("a", setup(), 60.0),
        TrialJob("b", setup(model=mlp(seed=1), lr=0.01), 60.0),
        TrialJob("c", setup(steps=10**8), 0.5),  # runs past its limit
    ]


class Seen:
    """Records what a runner reports."""

    def __init__(self) -> None:
        self.finished_: list[tuple[str, bool]] = []
        self.steps: dict[str, list[int]] = {}

    def step(self, key: str, done: int, total: int) -> None:
        self.steps.setdefault(key, []).append(done)

    def finished(self, key: str, ok: bool) -> None:
        self.finished_.append((key, ok))


def test_local_pool_matches_this_process_and_reports_a_timeout() -> None:
    seen, here_seen = Seen(), Seen()
    here = InProcess().run(_jobs(), progress=here_seen)
    pool = LocalPool(2).run(_jobs(), progress=seen)
    assert [o.key for o in pool] == ["a", "b", "c"]
    for a, b in zip(here[:2], pool[:2], strict=True):
        assert a.metrics is not None and b.metrics is not None
        assert (a.metrics.score, a.metrics.loss) == pytest.approx((b.metrics.score, b.metrics.loss))
    assert here[2].metrics is None and pool[2].metrics is None
    assert "limit" in (pool[2].error or "")
    for s in (seen, here_seen):
        assert sorted(s.finished_) == [("a", True), ("b", True), ("c", False)]
        assert s.steps["a"][-1] == 100 and s.steps["a"] == sorted(s.steps["a"])  # step reports, in order


def test_runner_choice() -> None:
    assert isinstance(make_runner(1), InProcess)
    pool = make_runner(3)
    assert isinstance(pool, LocalPool) and pool.where == "3 local processes"
    auto = make_runner(None)
    assert isinstance(auto, Auto)
    quick = [TrialJob(k, setup(), 60.0, estimate=0.5) for k in "abc"]
    slow = [TrialJob(k, setup(), 60.0, estimate=30.0) for k in "abc"]
    unknown = [TrialJob(k, setup(), 60.0) for k in "abc"]
    auto.pool = LocalPool(8)  # as on an 8-core machine
    assert isinstance(auto.choose(quick), InProcess)  # a pool's start-up would cost more than it saves
    assert auto.choose(slow) is auto.pool and auto.choose(unknown) is auto.pool
    auto.pool = LocalPool(2)  # on 2 cores torch's own threads do as well as a pool
    assert isinstance(auto.choose(slow), InProcess)


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="Ray is installed")
def test_ray_missing_names_the_extra() -> None:
    with pytest.raises(RunnerUnavailable, match=r"pip install 'deadpan\[ray\]'"):
        make_runner(ray="auto")


ray_installed = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")


@ray_installed
def test_an_unreachable_ray_address_is_a_clear_error() -> None:
    with pytest.raises(RunnerUnavailable, match=r"could not reach the Ray cluster at '127.0.0.1:9'"):
        make_runner(ray="127.0.0.1:9")


@ray_installed
@pytest.mark.corpus  # a local Ray cluster takes ~30 s to start: make e2e (make test keeps its error paths)
def test_local_ray_matches_this_process() -> None:
    import ray

    from deadpan.fixes.runner import RayRunner

    try:
        runner = RayRunner("local", num_cpus=2)
        assert runner.where == "Ray at local"
        seen = Seen()
        remote = runner.run(_jobs(), progress=seen)
    finally:
        ray.shutdown()
    assert sorted(seen.finished_) == [("a", True), ("b", True), ("c", False)]
    assert seen.steps["a"][-1] == 100 and seen.steps["a"] == sorted(seen.steps["a"])  # per-step, from Ray
    here = InProcess().run(_jobs()[:2])
    for a, b in zip(here, remote[:2], strict=True):
        assert a.metrics is not None and b.metrics is not None
        assert (a.metrics.score, a.metrics.loss) == pytest.approx((b.metrics.score, b.metrics.loss))
    assert remote[2].metrics is None and "limit" in (remote[2].error or "")
