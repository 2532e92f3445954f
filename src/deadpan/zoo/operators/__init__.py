"""Mutation operators: each injects one cause from the vocabulary into a healthy base task.

In the spirit of DeepCrime's operators, which were drawn from real faults (training data, hyper-parameters,
activations, regularisation, weights, loss, optimisation), plus the loop and pipeline bugs users write
(zero_grad missing, loss detached, the same batch every step, integer division of pixel values, inputs and
labels shuffled apart, a softmax into a logits loss, target shapes that broadcast).

An operator declares the category it injects. Whether the mutant really harms the model is not assumed:
:mod:`deadpan.zoo.kill` decides that from several seeds.
"""

from __future__ import annotations

# Registration order is the order of the benchmark's rows: the data and model operators first.
from deadpan.zoo.operators import inputs_and_model, training  # noqa: F401
from deadpan.zoo.operators.base import OPERATORS, Mutant, Operator, mutants, operator

__all__ = ["OPERATORS", "Mutant", "Operator", "mutants", "operator"]
