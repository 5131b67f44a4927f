"""The model layer: leakage guard, estimators, precedence prior, strategy ranker, evaluation."""
