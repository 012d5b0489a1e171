"""`dexter-auto plan`: what a job-spec change would do (spec, config, data, cost, card),
compared with a git base, without running anything (no torch, no transformers)."""

from dexter_autotrain.plan.compare import make_plan
from dexter_autotrain.plan.git_tree import base_side, repository
from dexter_autotrain.plan.report import JobPlan, Plan

__all__ = ["JobPlan", "Plan", "base_side", "make_plan", "repository"]
