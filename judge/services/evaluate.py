"""Evaluate one model end to end: its answers, the comparisons and the judge's verdicts.

Orchestration only, over the services that do each step: ``answers_generate`` (the contender's
missing answers, through its endpoint), ``judge_run_create`` (the comparisons and every
judgment, both presentation orders) and ``judgment_execute`` (one judgment, answered from the
judge cache when the same request was judged before). Resumable: answers that exist are not
asked for again, and a run with the same options is resumed rather than made anew, so running it
again after an interruption sends only what is missing.

Keys are never given here: the contender and the judge name the environment variable holding
theirs (``api_key_env``, checked by ``arena.validators`` like everywhere else).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from arena.models import Answer, Contender, Prompt, PromptSet
from arena.validators import endpoint_problems
from judge.models import Judge, JudgeRun, Judgment
from judge.services.run_parts import cost_of, judge_run_finish_if_complete
from judge.services.runs import RunError, judge_run_cancel, judge_run_create, judge_run_estimate

if TYPE_CHECKING:
    from judge.services.generation import GenerationResult

MODES = ("single", "pairwise")
# An answer not generated yet is priced at the generation's max_tokens (an upper bound).
DEFAULT_MAX_TOKENS = 1024
# What a judge prompt adds around the question and answers, in tokens (the templates' text).
TEMPLATE_TOKENS = 350


class EvaluationError(Exception):
    """Bad options or an endpoint that refuses: the message says which and what to do. ``field``
    names the option at fault (EvaluationOptions' name), so a form shows it next to that field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def max_cost_parse(value: object) -> Decimal | None:
    """--max-cost / the form's max cost: USD, a finite number, 0 or more; empty: no limit."""
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise EvaluationError(
            f"--max-cost: {value!r} is not an amount in USD (a number, 0 or more).", field="max_cost"
        )
    return amount


@dataclass(frozen=True)
class EvaluationOptions:
    contender: str
    prompt_set: str
    judge: str
    mode: str = "single"
    baseline: str | None = None
    against: tuple[str, ...] = ()
    turn: int | None = None  # None: every turn
    max_cost: Decimal | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    # To create the contender when it does not exist.
    base_url: str = ""
    model: str = ""
    api_key_env: str = ""


@dataclass
class EvaluationPlan:
    contender: Contender
    prompt_set: PromptSet
    judge: Judge
    mode: str
    opponents: list[Contender]  # one run per opponent (pairwise), none for single
    prompts: int
    answers_missing: int
    generation_requests: int
    generation_input_tokens: int
    generation_output_tokens: int  # upper bound: max_tokens per missing answer turn
    judgments: int
    judge_input_tokens: int
    judge_output_tokens: int
    judge_cost: Decimal
    contender_created: bool = False

    def lines(self) -> list[str]:
        against = ", ".join(c.name for c in self.opponents) or "-"
        return [
            f"Contender {self.contender.name} on {self.prompt_set.slug} (version {self.prompt_set.version}, "
            f"{self.prompts} prompts), judge {self.judge.name}, mode {self.mode}, against {against}.",
            f"Generate: {self.answers_missing} answers ({self.generation_requests} requests, about "
            f"{self.generation_input_tokens} input and at most {self.generation_output_tokens} output tokens; "
            f"the contender has no price, so no cost).",
            f"Judge: {self.judgments} judgments (both orders for pairwise), about {self.judge_input_tokens} input / "
            f"{self.judge_output_tokens} output tokens, estimated cost ${self.judge_cost:.4f}.",
        ]


@dataclass
class EvaluationResult:
    plan: EvaluationPlan
    generation: GenerationResult | None = None
    runs: list[JudgeRun] = field(default_factory=list)
    judged: int = 0
    from_cache: int = 0
    cost: Decimal = Decimal(0)
    stopped: str = ""  # why it stopped before the end (--max-cost), else empty
    notes: list[str] = field(default_factory=list)


def _names(model: type[PromptSet] | type[Judge], field_name: str) -> str:
    return ", ".join(model.objects.order_by(field_name).values_list(field_name, flat=True)[:20]) or "none"


def _contender(options: EvaluationOptions) -> tuple[Contender, bool]:
    found = Contender.objects.filter(name=options.contender).first()
    if found is not None:
        # Endpoint options given for an existing contender update it (saved when the run starts).
        given = {"base_url": options.base_url, "api_model": options.model, "api_key_env": options.api_key_env}
        changes = {k: v for k, v in given.items() if v and getattr(found, k) != v}
        if changes:
            for name, value in changes.items():
                setattr(found, name, value)
            _validate(found, options.contender)
            found._evaluate_changed = True  # type: ignore[attr-defined]  # a mark for the run, not a field
        return found, False
    if not options.base_url and not options.model:
        raise EvaluationError(
            f"No contender {options.contender!r}: give --base-url and --model (and --api-key-env "
            f"if the endpoint needs a key) to create it.",
            field="base_url",
        )
    contender = Contender(
        name=options.contender,
        base_url=options.base_url,
        api_model=options.model,
        api_key_env=options.api_key_env,
    )
    _validate(contender, options.contender)
    return contender, True


_FIELD_OF_MODEL = {
    "base_url": "base_url",
    "api_model": "model",
    "api_key_env": "api_key_env",
    "name": "contender",
}
_OPTION_OF_FIELD = {
    "base_url": "--base-url",
    "api_model": "--model",
    "api_key_env": "--api-key-env",
    "name": "--contender",
}


def _validate(contender: Contender, name: str) -> None:
    try:
        contender.full_clean(validate_unique=contender.pk is None)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_OPTION_OF_FIELD.get(k, '')} {' '.join(v)}".strip() for k, v in exc.message_dict.items()
        )
        raise EvaluationError(
            f"Cannot use contender {name!r}: {problems}",
            field=_FIELD_OF_MODEL.get(next(iter(exc.message_dict), ""), "contender"),
        ) from None


def evaluation_plan(options: EvaluationOptions) -> EvaluationPlan:
    """Check the options and measure what the evaluation would send; writes nothing."""
    if options.mode not in MODES:
        raise EvaluationError(f"Unknown mode {options.mode!r}; use single or pairwise.", field="mode")
    pset = PromptSet.objects.filter(slug=options.prompt_set).first()
    if pset is None:
        raise EvaluationError(
            f"No prompt set {options.prompt_set!r}; known sets: {_names(PromptSet, 'slug')}. "
            f"Import one with import_prompt_set.",
            field="prompt_set",
        )
    judge = Judge.objects.filter(name=options.judge).first()
    if judge is None:
        raise EvaluationError(
            f"No judge {options.judge!r}; known judges: {_names(Judge, 'name')}. Add one with judge_add.",
            field="judge",
        )
    if options.baseline and options.against:
        raise EvaluationError("Give --baseline or --against, not both.", field="against")
    if options.mode == "single" and (options.baseline or options.against):
        raise EvaluationError(
            "--baseline and --against compare two answers: use --mode pairwise.", field="mode"
        )
    names = [options.baseline] if options.baseline else list(options.against)
    if options.mode == "pairwise" and not names:
        raise EvaluationError("--mode pairwise needs --baseline MODEL or --against a,b,c.", field="baseline")
    contender, created = _contender(options)
    if options.contender in names:
        raise EvaluationError(
            f"{options.contender} cannot be its own opponent.",
            field="baseline" if options.baseline else "against",
        )
    prompts = list(Prompt.objects.current().filter(prompt_set=pset).order_by("position", "id"))
    opponents = []
    opponent_field = "baseline" if options.baseline else "against"
    for name in names:
        opponent = Contender.objects.filter(name=name).first()
        if opponent is None:
            raise EvaluationError(f"No contender {name!r} to compare with.", field=opponent_field)
        have = Answer.objects.filter(contender=opponent, prompt__in=prompts).count()
        if have < len(prompts):
            raise EvaluationError(
                f"{name} has answers to {have} of the {len(prompts)} prompts of {pset.slug}: "
                f"generate or import the rest first (generate_answers / import_answers).",
                field=opponent_field,
            )
        opponents.append(opponent)
    answered = (
        set()
        if created
        else set(
            Answer.objects.filter(contender=contender, prompt__in=prompts).values_list("prompt_id", flat=True)
        )
    )
    missing = [p for p in prompts if p.pk not in answered]
    gen_requests = sum(len(p.turns) for p in missing)
    # Turn k's request carries every earlier question and answer of the conversation.
    gen_input = sum(
        sum(len("".join(p.turns[: k + 1])) // 4 + k * options.max_tokens for k in range(len(p.turns)))
        for p in missing
    )
    gen_output = gen_requests * options.max_tokens

    turns = [options.turn] if options.turn else None
    judgments = judge_in = judge_out = 0
    cost = Decimal(0)
    run_options = [(None,)] if options.mode == "single" else [(o,) for o in opponents]
    for (opponent,) in run_options:
        if not missing and not created:
            est = judge_run_estimate(
                judge=judge,
                prompt_set=pset,
                mode=options.mode,
                contenders=[contender],
                baseline=opponent,
                turn=options.turn,
            )
            judgments += est.judgments - est.cached
            judge_in += est.input_tokens
            judge_out += est.output_tokens
            cost += Decimal(str(est.cost))
            continue
        # Answers still to come: priced at max_tokens each (an upper bound), like the generation.
        for p in prompts:
            for t in turns or range(1, len(p.turns) + 1):
                if t > len(p.turns):
                    continue
                question = sum(len(x) for x in p.turns[:t]) // 4 + sum(len(x) for x in p.references[:t]) // 4
                answers = 1 if opponent is None else 2
                n = 1 if opponent is None else 2  # both orders
                judgments += n
                judge_in += n * (TEMPLATE_TOKENS + question + answers * t * options.max_tokens)
                judge_out += n * min(judge.max_tokens, settings.JUDGE_ESTIMATE_OUTPUT_TOKENS)
    if missing or created:
        cost = Decimal(str(cost_of(judge, judge_in, judge_out)))
    return EvaluationPlan(
        contender=contender,
        prompt_set=pset,
        judge=judge,
        mode=options.mode,
        opponents=opponents,
        prompts=len(prompts),
        answers_missing=len(missing),
        generation_requests=gen_requests,
        generation_input_tokens=gen_input,
        generation_output_tokens=gen_output,
        judgments=judgments,
        judge_input_tokens=judge_in,
        judge_output_tokens=judge_out,
        judge_cost=cost,
        contender_created=created,
    )


def _check_endpoint(contender: Contender) -> None:
    """Before generating: the key variable and host are allowed, the endpoint accepts the key and
    serves the model (when it lists its models; one that cannot list them is not held to it)."""
    # The openai SDK (slow to import; PERFORMANCE.md) loads when an evaluation runs, not with the form.
    from judge import client as llm
    from judge.services.execution import chat_client_for

    problems = endpoint_problems(
        url=llm.endpoint_url(contender.base_url or None), api_key_env=contender.api_key_env
    )
    if problems:
        raise EvaluationError(f"Contender {contender.name}: {' '.join(problems)}")
    model = contender.api_model or contender.name
    try:
        served = chat_client_for(base_url=contender.base_url, api_key_env=contender.api_key_env).list_models()
    except llm.PermanentLLMError as exc:
        if exc.kind in ("auth", "forbidden", "config"):
            raise EvaluationError(
                f"The endpoint of {contender.name} refused the key "
                f"({contender.api_key_env or 'OPENAI_API_KEY'}): {exc.message}"
            ) from None
        return  # no model list here (404 and the like): the first request will tell
    except llm.LLMError:
        return
    if served and model not in served:
        raise EvaluationError(
            f"The endpoint of {contender.name} does not serve model {model!r}; it serves: "
            f"{', '.join(sorted(served)[:20])}."
        )


def _existing_run(plan: EvaluationPlan, opponent: Contender | None, turn: int | None) -> JudgeRun | None:
    """A run of these options made earlier (its judgments are resumed, not asked for again)."""
    runs = JudgeRun.objects.filter(
        judge=plan.judge,
        prompt_set=plan.prompt_set,
        mode=plan.mode,
        baseline=opponent,
        turn=turn,
        limit__isnull=True,
        contenders=plan.contender,
    ).order_by("-id")
    for run in runs:
        if set(run.contenders.values_list("pk", flat=True)) == {plan.contender.pk} | (
            {opponent.pk} if opponent else set()
        ):
            return run
    return None


def evaluation_cost_check(options: EvaluationOptions, plan: EvaluationPlan) -> None:
    """Refuse to start when the estimate is above ``max_cost``."""
    if options.max_cost is not None and plan.judge_cost > options.max_cost:
        raise EvaluationError(
            f"The estimated cost ${plan.judge_cost:.4f} is above --max-cost ${options.max_cost}: "
            f"nothing was sent.",
            field="max_cost",
        )


def evaluation_run(
    options: EvaluationOptions,
    *,
    plan: EvaluationPlan | None = None,
    on_generation: Callable[[int], object] | None = None,
    on_judgment: Callable[[int, int, Decimal], None] | None = None,
) -> EvaluationResult:
    """Generate the missing answers, make and run the judge runs; ``on_judgment(done, total, cost)``
    after each judgment. Stops cleanly (the run cancelled, resumable) when the judge's cost passes
    ``max_cost``."""
    # Generation and the openai SDK (slow to import) load when an evaluation runs, not with the form.
    from judge import client as llm
    from judge.services.generation import answers_generate

    plan = plan or evaluation_plan(options)
    evaluation_cost_check(options, plan)
    result = EvaluationResult(plan=plan)
    contender = plan.contender
    if getattr(contender, "_evaluate_changed", False):
        contender.save(update_fields=["base_url", "api_model", "api_key_env"])
    if plan.answers_missing:
        _check_endpoint(contender)
        if plan.contender_created:
            contender.save()
        try:
            result.generation = answers_generate(
                contender=contender,
                prompt_set=plan.prompt_set,
                max_tokens=options.max_tokens,
                on_progress=on_generation,
            )
        except llm.PermanentLLMError as exc:
            raise EvaluationError(f"Contender {contender.name}: {exc.message}") from None
        if result.generation.failed:
            first = (result.generation.errors or ["?"])[0]
            if any(f" {code}: " in first for code in (401, 403)):
                raise EvaluationError(
                    f"The endpoint of {contender.name} refused the key "
                    f"({contender.api_key_env or 'OPENAI_API_KEY'}): {first}"
                )
            if " 404: " in first:
                raise EvaluationError(
                    f"The endpoint of {contender.name} does not know model "
                    f"{contender.api_model or contender.name!r}: {first}"
                )
            raise EvaluationError(
                f"{result.generation.failed} of {plan.answers_missing} answers failed (first: "
                f"{first}); the others are stored: run the same command again to retry."
            )
    runs = []
    opponents: list[Contender | None] = [*plan.opponents] or [None]  # single: one run, no opponent
    for opponent in opponents:
        run = _existing_run(plan, opponent, options.turn)
        latest = plan.prompt_set.versions.order_by("-number").first()
        if run is not None and latest is not None and run.created_at < latest.created_at:
            result.notes.append(
                f"Run {run.pk} was made before version {latest.number} of {plan.prompt_set.slug}: it is resumed as "
                f"it was (a second run would count its unchanged prompts twice), so prompts new in version "
                f"{latest.number} are not judged by it."
            )
        if run is None:
            try:
                run = judge_run_create(
                    judge=plan.judge,
                    prompt_set=plan.prompt_set,
                    mode=plan.mode,
                    contenders=[contender],
                    baseline=opponent,
                    turn=options.turn,
                    start=False,
                )
            except RunError as exc:
                raise EvaluationError(str(exc)) from None
        runs.append(run)
    result.runs = runs
    pending = list(
        Judgment.objects.filter(run__in=runs, status=Judgment.Status.PENDING)
        .order_by("run_id", "id")
        .values_list("run_id", "id")
    )
    total = len(pending)
    spent = Decimal(0)
    from judge.services.execution import judgment_execute

    for run in runs:
        if Judgment.objects.filter(run=run, status=Judgment.Status.PENDING).exists():
            JudgeRun.objects.filter(pk=run.pk).update(
                status=JudgeRun.Status.RUNNING, started_at=run.started_at or timezone.now(), finished_at=None
            )
    for done, (_run, judgment_id) in enumerate(pending, 1):
        if options.max_cost is not None and spent > options.max_cost:
            for run in runs:
                judge_run_cancel(run=run)
            result.stopped = (
                f"Stopped: the judge's cost ${spent:.4f} passed --max-cost ${options.max_cost} after "
                f"{done - 1} of {total} judgments; what was judged is kept, run again with a higher "
                f"limit to go on."
            )
            break
        judgment_execute(judgment_id=judgment_id)
        row = Judgment.objects.filter(pk=judgment_id).values_list("cost", "status").first()
        if row and row[0]:
            spent += Decimal(str(row[0]))
        result.judged = done
        if on_judgment:
            on_judgment(done, total, spent)
    else:
        for run in runs:
            with transaction.atomic():
                judge_run_finish_if_complete(run_id=run.pk)
    result.cost = spent
    return result
