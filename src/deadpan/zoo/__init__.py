"""The fault zoo: healthy base tasks, mutation operators that inject one known cause each, a statistical
test that keeps only mutants that really harm the model, and the accuracy benchmark that runs deadpan on
every killed mutant (``deadpan bench accuracy``)."""
