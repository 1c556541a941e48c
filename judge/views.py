"""Judge run pages: list, start (with a cost estimate), watch live, cancel, resume, retry. Staff only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from arena.views.permissions import staff_required
from judge import selectors, services
from judge.forms import RunForm
from judge.models import JudgeRun, Judgment


@staff_required
def run_list(request: HttpRequest) -> HttpResponse:
    return render(request, "judge/run_list.html", {
        "runs": selectors.judge_runs_list()[:200], "judges": selectors.judges_with_totals(),
    })


@staff_required
def run_new(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.judge_run_create(**form.run_options())
        except services.RunError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("judge:run-detail", run_id=run.pk)
    return render(request, "judge/run_new.html", {"form": form})


@staff_required
@require_POST
def run_estimate(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST)
    estimate = error = None
    if form.is_valid():
        options = form.run_options()
        targets = services.judge_run_plan(
            prompt_set=options["prompt_set"], mode=options["mode"], contenders=options["contenders"],
            baseline=options["baseline"], limit=options["limit"], turn=options["turn"],
        )
        estimate = services.judge_run_estimate(judge=options["judge"], targets=targets, mode=options["mode"])
    else:
        error = "Choose a judge, a prompt set and a mode to see the estimate."
    return render(request, "judge/run_new.html#estimate", {"estimate": estimate, "estimate_error": error})


@staff_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(JudgeRun.objects.select_related("judge", "prompt_set", "baseline"), pk=run_id)
    context = {
        "run": run, "progress": selectors.judge_run_progress_get(run_id=run.pk),
        "problems": selectors.judge_run_problems(run_id=run.pk),
    }
    if request.htmx:
        return render(request, "judge/run_detail.html#progress", context)
    return render(request, "judge/run_detail.html", context)


@staff_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = services.judge_run_cancel(run=get_object_or_404(JudgeRun, pk=run_id))
    messages.info(request, f"Run {run.pk} cancelled; pending judgments stay pending and can be resumed.")
    return redirect("judge:run-detail", run_id=run.pk)


@staff_required
@require_POST
def run_resume(request: HttpRequest, run_id: int) -> HttpResponse:
    count = services.judge_run_resume(run=get_object_or_404(JudgeRun, pk=run_id))
    messages.info(request, f"Resumed: {count} pending judgments enqueued.")
    return redirect("judge:run-detail", run_id=run_id)


@staff_required
@require_POST
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    statuses = [Judgment.Status.UNPARSED]
    if request.POST.get("failed"):
        statuses.append(Judgment.Status.FAILED)
    count = services.judge_run_retry(run=get_object_or_404(JudgeRun, pk=run_id), statuses=statuses)
    messages.info(request, f"{count} judgments sent to the judge again.")
    return redirect("judge:run-detail", run_id=run_id)
