"""Judge run pages: list, start (with a cost estimate), watch live, cancel, resume, retry; and
evaluations (the evaluate command from the browser). Staff only."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from arena.views.permissions import staff_required
from arena.views.requests import HtmxRequest
from judge import selectors, services
from judge.forms import EvaluationForm, RunForm, RunOptions
from judge.models import Evaluation, Judge, JudgeRun, Judgment
from judge.services import evaluate, evaluations


@staff_required
def run_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "judge/run_list.html",
        {
            "runs": selectors.judge_runs_list()[:200],
            "judges": selectors.judges_with_totals(),
        },
    )


def _estimate(options: RunOptions) -> services.CostEstimate:
    return services.judge_run_estimate(
        judge=options["judge"],
        prompt_set=options["prompt_set"],
        mode=options["mode"],
        contenders=options["contenders"],
        baseline=options["baseline"],
        limit=options["limit"],
        turn=options["turn"],
    )


@staff_required
def run_new(request: HttpRequest) -> HttpResponse:
    if not Judge.objects.exists():  # nothing to choose: say how to add one instead of an empty form
        return render(request, "judge/run_new.html", {"no_judge": True})
    form = RunForm(request.POST or None)
    estimate = None
    if request.method == "POST" and form.is_valid():
        options = form.run_options()
        estimate = _estimate(options)
        if estimate.needs_confirmation and request.POST.get("confirm") != "1":
            form.add_error(
                None,
                f"This run makes {estimate.judgments:,} judgments (estimated cost "
                f"${estimate.cost:,.2f}): tick the confirmation below the estimate to start it.",
            )
        else:
            try:
                run = services.judge_run_create(**options)
            except services.RunError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("judge:run-detail", run_id=run.pk)
    return render(request, "judge/run_new.html", {"form": form, "estimate": estimate, **_thresholds()})


def _thresholds() -> dict[str, object]:
    return {
        "confirm_judgments": settings.JUDGE_CONFIRM_JUDGMENTS,
        "confirm_cost": settings.JUDGE_CONFIRM_COST,
    }


@staff_required
@require_POST
def run_estimate(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST)
    estimate = error = None
    if form.is_valid():
        estimate = _estimate(form.run_options())
    else:
        error = "Choose a judge, a prompt set and a mode to see the estimate."
    return render(
        request,
        "judge/run_new.html#estimate",
        {"estimate": estimate, "estimate_error": error, **_thresholds()},
    )


def _detail_context(run: JudgeRun) -> dict[str, object]:
    return {
        "run": run,
        "progress": selectors.judge_run_progress_get(run_id=run.pk),
        "problems": selectors.judge_run_problems(run_id=run.pk),
    }


@staff_required
def run_detail(request: HtmxRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(JudgeRun.objects.select_related("judge", "prompt_set", "baseline"), pk=run_id)
    template = "judge/run_detail.html#progress" if request.htmx else "judge/run_detail.html"
    return render(request, template, _detail_context(run))


@staff_required
def run_problems(request: HttpRequest, run_id: int) -> HttpResponse:
    """The list of unparsed and failed judgments, re-fetched by the page when their count changes."""
    run = get_object_or_404(JudgeRun, pk=run_id)
    return render(request, "judge/run_detail.html#problems", _detail_context(run))


def _acted(request: HtmxRequest, run_id: int, notice: str) -> HttpResponse:
    """After a button: from the page (htmx), the fresh progress (buttons included) and the notice;
    without JavaScript, back to the page with the notice as a message."""
    if request.htmx:
        run = get_object_or_404(JudgeRun, pk=run_id)
        return render(request, "judge/run_detail.html#acted", {**_detail_context(run), "notice": notice})
    messages.info(request, notice)
    return redirect("judge:run-detail", run_id=run_id)


@staff_required
@require_POST
def run_cancel(request: HtmxRequest, run_id: int) -> HttpResponse:
    run = services.judge_run_cancel(run=get_object_or_404(JudgeRun, pk=run_id))
    return _acted(
        request, run.pk, f"Run {run.pk} cancelled; pending judgments stay pending and can be resumed."
    )


@staff_required
@require_POST
def run_resume(request: HtmxRequest, run_id: int) -> HttpResponse:
    count = services.judge_run_resume(run=get_object_or_404(JudgeRun, pk=run_id))
    return _acted(request, run_id, f"Resumed: {count} pending judgments enqueued.")


@staff_required
@require_POST
def run_retry(request: HtmxRequest, run_id: int) -> HttpResponse:
    statuses = [Judgment.Status.UNPARSED]
    if request.POST.get("failed"):
        statuses.append(Judgment.Status.FAILED)
    count = services.judge_run_retry(run=get_object_or_404(JudgeRun, pk=run_id), statuses=statuses)
    return _acted(request, run_id, f"{count} judgments sent to the judge again.")


@staff_required
def evaluation_new(request: HttpRequest) -> HttpResponse:
    """Evaluate a model: the evaluate command's options, its checks and messages (by field), the
    estimate (its dry run) first, then the start, which runs in the background."""
    form = EvaluationForm(request.POST or None, initial={"token": uuid.uuid4()})
    plan = None
    if request.method == "POST" and form.is_valid():
        try:
            options = form.evaluation_options()
            plan = evaluate.evaluation_plan(options)
            evaluate.evaluation_cost_check(options, plan)  # above max cost: said now, no start button
            if request.POST.get("action") == "start":
                evaluation, created = evaluations.evaluation_start(
                    options=options, plan=plan, token=form.cleaned_data["token"], user=request.user
                )
                if not created:
                    messages.info(
                        request,
                        f"Evaluation {evaluation.pk} was already started with these options: "
                        f"nothing new was started.",
                    )
                return redirect("judge:evaluation-detail", evaluation_id=evaluation.pk)
        except evaluate.EvaluationError as exc:
            plan = None
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, str(exc))
    return render(
        request,
        "judge/evaluation_new.html",
        {
            "form": form,
            "plan": plan,
            "evaluations": Evaluation.objects.select_related("created_by")[:20],
        },
        status=400 if form.errors else 200,
    )


@staff_required
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = get_object_or_404(Evaluation.objects.prefetch_related("runs"), pk=evaluation_id)
    return render(
        request,
        "judge/evaluation_detail.html",
        {"evaluation": evaluation, "links": evaluations.evaluation_links(evaluation)},
    )
