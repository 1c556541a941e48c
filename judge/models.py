"""LLM judges as configuration, their batch runs and their judgments.

A judgment is one request to a judge: for pairwise modes one row per presentation order of a
comparison (order 1 shows the comparison's answer A first, order 2 shows answer B first), so
position bias can be read from the stored per-order verdicts. The API key is never stored:
``api_key_env`` names the environment variable that holds it (rules in ``arena.keys``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from arena.keys import DEFAULT_KEY_VARIABLE, is_variable_name
from arena.models import KEY_ENV_HELP, Answer, Comparison, Contender, PromptSet
from arena.validators import validate_api_key_env, validate_endpoint_host


class Judge(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    base_url = models.URLField(
        blank=True,
        validators=[validate_endpoint_host],
        help_text="Empty: OPENAI_BASE_URL, else the OpenAI API.",
    )
    model = models.CharField(max_length=200)
    api_key_env = models.CharField(
        max_length=100,
        default=DEFAULT_KEY_VARIABLE,
        blank=True,
        validators=[validate_api_key_env],
        help_text=KEY_ENV_HELP,
    )
    temperature = models.FloatField(default=0.0)
    max_tokens = models.PositiveIntegerField(default=1024)
    max_concurrent = models.PositiveIntegerField(
        default=8, help_text="Requests in flight across all workers."
    )
    requests_per_minute = models.PositiveIntegerField(default=600)
    price_input_per_million = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    price_output_per_million = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    template_set = models.CharField(max_length=100, default="arena-v1")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def key_variable(self) -> str:
        """The key variable as pages show it: a value that is no variable name (a pasted key) never."""
        if not self.api_key_env:
            return f"{DEFAULT_KEY_VARIABLE} (default)"
        return self.api_key_env if is_variable_name(self.api_key_env) else "(not a variable name)"


class JudgePanel(models.Model):
    """A named panel of judges (Verga et al. 2024): its verdicts are the source ``panel:<name>``,
    the majority of its judges' verdicts per comparison (the mean for scores)."""

    name = models.SlugField(max_length=100, unique=True)
    judges = models.ManyToManyField(Judge, related_name="panels")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JudgeRun(models.Model):
    class Mode(models.TextChoices):
        PAIRWISE = "pairwise"
        SINGLE = "single"
        GRADE = "grade"
        HHH = "hhh", "HHH"
        # Arena-Hard's five levels [[A>>B]] ... [[B>>A]]; strong verdicts are weighted in reports.
        FIVE_LEVEL = "five_level", "five-level pairwise"
        # AlpacaEval's weighted annotator: one token, its probability read from the logprobs.
        LOGPROB = "logprob", "pairwise preference from logprobs"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        CANCELLED = "cancelled"
        FAILED = "failed"

    class Inconsistent(models.TextChoices):
        TIE = "tie", "Count as a tie"
        DROP = "drop", "Drop the comparison"

    judge = models.ForeignKey(Judge, on_delete=models.PROTECT, related_name="runs")
    prompt_set = models.ForeignKey(PromptSet, on_delete=models.PROTECT, related_name="judge_runs")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.PAIRWISE)
    contenders = models.ManyToManyField(Contender, related_name="judge_runs", blank=True)
    baseline = models.ForeignKey(Contender, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    inconsistent = models.CharField(max_length=4, choices=Inconsistent.choices, default=Inconsistent.TIE)
    panel = models.ForeignKey(
        JudgePanel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        help_text="Started as part of this panel's run.",
    )
    limit = models.PositiveIntegerField(null=True, blank=True, help_text="At most this many prompts.")
    turn = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Judge only this turn; empty: every turn."
    )
    template_fingerprint = models.CharField(max_length=64, blank=True)
    estimated_cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Run {self.pk}: {self.judge} on {self.prompt_set} ({self.mode})"


class Judgment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        UNPARSED = "unparsed"
        FAILED = "failed"

    run = models.ForeignKey(JudgeRun, on_delete=models.CASCADE, related_name="judgments")
    # Pairwise and HHH modes judge a comparison; single and grade modes judge one answer.
    comparison = models.ForeignKey(
        Comparison, on_delete=models.CASCADE, null=True, blank=True, related_name="judgments"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, null=True, blank=True, related_name="judgments"
    )
    order = models.PositiveSmallIntegerField(
        default=1, help_text="1: answer A shown first; 2: answer B first."
    )
    turn = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # Pairwise verdict in terms of the comparison's answers: model_a, model_b or tie.
    winner = models.CharField(max_length=10, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="Single-answer grade 1–10.")
    grade = models.CharField(max_length=1, blank=True, help_text="Self-Instruct A–D.")
    hhh = models.JSONField(default=dict, blank=True)
    # Probability that the comparison's answer B is the better one (logprob mode), in [0, 1].
    preference = models.FloatField(null=True, blank=True)
    # A five-level verdict of the strong kind ([[A>>B]] or [[B>>A]]).
    strong = models.BooleanField(default=False)
    raw_output = models.TextField(blank=True)
    parse_error = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    from_cache = models.BooleanField(default=False)
    # The template mode used (pairwise, pairwise-ref, pairwise-multi, single, ...).
    mode = models.CharField(max_length=30, blank=True)
    # Requests actually sent to the endpoint for this row: > 1 only after retries or a lost worker.
    sends = models.PositiveSmallIntegerField(default=0)
    latency_s = models.FloatField(null=True, blank=True)
    # A worker holds a claim while it judges the row; an expired claim belongs to a dead worker.
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "comparison", "order", "turn"],
                condition=Q(comparison__isnull=False),
                name="unique_judgment_per_run_comparison_order",
            ),
            models.UniqueConstraint(
                fields=["run", "answer", "turn"],
                condition=Q(answer__isnull=False),
                name="unique_judgment_per_run_answer",
            ),
            models.CheckConstraint(
                condition=Q(comparison__isnull=False, answer__isnull=True)
                | Q(comparison__isnull=True, answer__isnull=False),
                name="judgment_targets_comparison_or_answer",
            ),
            models.CheckConstraint(condition=Q(order__in=[1, 2]), name="judgment_order_1_or_2"),
        ]
        indexes = [models.Index(fields=["run", "status"], name="judgment_run_status_idx")]

    def __str__(self) -> str:
        return f"Judgment {self.pk} ({self.status})"


class Evaluation(models.Model):
    """One evaluation started from the web page (``judge.services.evaluations``): the options as
    ``EvaluationOptions`` takes them, where it has got to, and what came of it. ``token`` is the
    form's one-time id, so submitting the same form twice starts one evaluation."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        STOPPED = "stopped", "Stopped at the cost limit"
        FAILED = "failed", "Failed"

    token = models.UUIDField(unique=True)
    options = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=20, blank=True)  # "generating", "judging"
    plan = models.JSONField(default=list)  # the estimate's lines, as shown before the start
    estimated_cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    answers_total = models.PositiveIntegerField(default=0)
    answers_done = models.PositiveIntegerField(default=0)
    judgments_total = models.PositiveIntegerField(default=0)
    judgments_done = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    error = models.TextField(blank=True)
    notes = models.JSONField(default=list)
    report = models.TextField(blank=True)  # the result table, as the evaluate command prints it
    runs = models.ManyToManyField(JudgeRun, blank=True, related_name="evaluations")
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"evaluation {self.pk} of {self.options.get('contender')}"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
