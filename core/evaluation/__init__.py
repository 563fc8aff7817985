"""Evaluation: how close a model's music is to real chorales, whether the SVM's picks are better than random
picks, the survey's models side by side (:mod:`core.evaluation.compare`) and the training targets report."""
