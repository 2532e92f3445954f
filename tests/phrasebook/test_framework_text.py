"""Each check's fix, from the evidence its own tests build, said in each framework's terms: no PyTorch in a
Keras fix, no Keras in a PyTorch one, and the trainer's arguments where Lightning or Hugging Face set them."""

from __future__ import annotations

import re

import pytest
from factory import healthy

from deadpan.checks import all_checks
from deadpan.fixes.catalog import all_fixes
from deadpan.phrasebook import FRAMEWORKS, framework_of, render

from .kit import Fired, as_framework, fired

#: PyTorch in a fix: ``torch.optim``, ``nn.Linear``, ``F.relu`` ...
PYTORCH = re.compile(r"torch|(?<![\w.])nn\.|(?<![\w.])F\.")
#: Changes the Hugging Face ``TrainingArguments`` make: learning rate, weight decay, clipping, epochs.
HF_TRAINER = {
    "lower_learning_rate",
    "raise_learning_rate",
    "raise_clip_norm",
    "lower_regularization",
    "regularize",
    "train_longer",
    "train_more_steps",
}
#: ... and in Lightning the ``Trainer`` or ``configure_optimizers`` (the optimizer's momentum too).
LIGHTNING_TRAINER = HF_TRAINER | {"lower_momentum"}
#: The fix catalog's entries that change the same settings.
TRAINER_FIXES = ("lr-from-range-test", "scale-lr", "more-steps", "lighter-regularization")


def assert_says(text: str, framework: str, trainer: bool) -> None:
    """``text`` is in ``framework``'s terms; ``trainer``: it sets what the framework's trainer sets."""
    assert text.strip(), "empty fix"
    if framework == "keras":
        assert not PYTORCH.search(text), text
    else:
        assert "keras" not in text.lower(), text
    if trainer and framework == "hf":
        assert "TrainingArguments" in text, text
    if trainer and framework == "lightning":
        assert "Trainer(" in text or "configure_optimizers" in text, text


def _fix_in(case: Fired, framework: str) -> str:
    """The check's fix when the same evidence comes from ``framework``; the finding's change rendered there
    when the check does not fire on it (Keras reads the class axis differently) or it has no model."""
    ev = as_framework(case.ev, framework)
    finding = case.check().judge(ev) if framework_of(ev) == framework else None
    if finding is None:
        assert case.finding.change is not None
        return render(case.finding.change, framework)
    assert finding.change is not None
    assert finding.fix == render(finding.change, framework)
    return finding.fix


def test_every_check_fires_in_its_tests() -> None:
    codes = {case.finding.code for case in fired()}
    assert codes == {c.code for c in all_checks()}, sorted(codes)
    assert all(case.finding.change is not None for case in fired())


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_checks_fix_in_each_book(framework: str) -> None:
    for case in fired():
        assert case.finding.change is not None
        action = case.finding.change.action
        trainer = action in (HF_TRAINER if framework == "hf" else LIGHTNING_TRAINER)
        assert_says(_fix_in(case, framework), framework, trainer)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_fix_catalog_advice_in_each_book(framework: str) -> None:
    ev = as_framework(healthy(), framework)
    for fix in all_fixes():
        assert_says(fix.advice(ev, ()), framework, fix.name in TRAINER_FIXES)


def test_the_same_change_differs_by_framework() -> None:
    """A learning-rate fix names each framework's own call."""
    case = next(c for c in fired() if c.finding.change and c.finding.change.action == "raise_learning_rate")
    texts = {fw: _fix_in(case, fw) for fw in FRAMEWORKS}
    assert "torch.optim." in texts["torch"] and "model.parameters()" in texts["torch"]
    assert "keras.optimizers." in texts["keras"] and "model.compile(" in texts["keras"]
    assert "configure_optimizers" in texts["lightning"] and "self.parameters()" in texts["lightning"]
    assert "TrainingArguments(" in texts["hf"] and "learning_rate=" in texts["hf"]
    assert len(set(texts.values())) == 4
