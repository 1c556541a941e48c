"""Writes of the judge app: judges, runs, judgments and generated answers (HackSoft-style services)."""

from judge.services.judges import judge_create
from judge.services.panels import judge_panel_create, judge_panel_run_create
from judge.services.runs import (
    CostEstimate,
    RunError,
    judge_run_cancel,
    judge_run_create,
    judge_run_dispatch,
    judge_run_estimate,
    judge_run_plan,
    judge_run_resume,
    judge_run_retry,
    judge_runs_resume_stale,
)

__all__ = [
    "CostEstimate",
    "RunError",
    "judge_create",
    "judge_panel_create",
    "judge_panel_run_create",
    "judge_run_cancel",
    "judge_run_create",
    "judge_run_dispatch",
    "judge_run_estimate",
    "judge_run_plan",
    "judge_run_resume",
    "judge_run_retry",
    "judge_runs_resume_stale",
]
