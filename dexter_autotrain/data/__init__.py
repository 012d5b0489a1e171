"""Data preparation: read, check, split, de-leak, balance and fingerprint a job's data."""

from dexter_autotrain.data.prepare import prepare_data
from dexter_autotrain.data.report import DataReport

__all__ = ["DataReport", "prepare_data"]
