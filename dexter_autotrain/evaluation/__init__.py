"""Evaluation: predictions, metrics, slices, fairness, baseline, probe, speed, gates."""
