"""Arena's domain model: prompt sets, contenders, answers, comparisons, human votes,
imported verdicts and rating snapshots. LLM judgments live in ``judge.models``.

Integrity lives in the database (unique and check constraints), not only in forms: one answer
per (prompt, contender), one vote per (rater, comparison), one comparison per answer pair and
turn. Models hold fields, constraints and tiny properties; services do the writing. The one
thing a save does besides writing: prompts and answers refresh the stored HTML of their text.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from arena.identity import reveals_identity
from arena.markdown import rendered_turns, stored_html
from arena.validators import validate_api_key_env, validate_endpoint_host

RENDERED_HELP = "The turns as sanitised HTML, keyed by the text and renderer they came from (filled on save)."
KEY_ENV_HELP = (
    "NAME of the environment variable holding the API key: ARENA_KEY_… (the ARENA_KEY_PREFIX setting) "
    "or OPENAI_API_KEY. Empty: OPENAI_API_KEY if it is set, else no key (local servers need none)."
)


def _keep_rendered(instance: Prompt | Answer, save_kwargs: dict) -> bool:
    """Before a save: store the HTML of ``instance.turns`` unless what is stored was made from
    these texts (and save it with them when only some fields are saved). True when the text is
    new or changed."""
    changed = stored_html(instance.turns, instance.rendered) is None
    if changed:
        instance.rendered = rendered_turns(instance.turns)
    fields = save_kwargs.get("update_fields")
    if fields is not None and "turns" in fields:
        save_kwargs["update_fields"] = {
            *fields,
            "rendered",
            *(["reveals_identity"] if isinstance(instance, Answer) else []),
        }
    return changed


WINNER_CHOICES = [
    ("model_a", "Model A"),
    ("model_b", "Model B"),
    ("tie", "Tie"),
    ("both_bad", "Both are bad"),
]


class PromptSet(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.TextField(blank=True, help_text="Where the prompts come from.")
    license = models.CharField(max_length=200, blank=True)
    bundled = models.BooleanField(
        default=False, help_text="Shipped with Arena and loaded by load_prompt_sets."
    )
    version = models.PositiveIntegerField(
        default=1, help_text="The latest version: one more each time import_prompt_set reads a changed file."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class PromptSetVersion(models.Model):
    """One imported version of a prompt set: the file it came from and a digest of its prompts,
    so that the same content imported again is a no-op and a changed one makes the next version."""

    prompt_set = models.ForeignKey(PromptSet, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file_name = models.CharField(max_length=500)
    format = models.CharField(max_length=50)
    sha256 = models.CharField(
        max_length=64, help_text="Digest of the prompts as parsed (not of the file's bytes)."
    )
    prompts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt_set", "number"]
        constraints = [
            models.UniqueConstraint(fields=["prompt_set", "number"], name="unique_prompt_set_version"),
        ]

    def __str__(self) -> str:
        return f"{self.prompt_set.slug} v{self.number}"


class PromptQuerySet(models.QuerySet["Prompt"]):
    def current(self) -> PromptQuerySet:
        """The prompts of each set's latest version."""
        return self.filter(last_version__isnull=True)

    def in_version(self, version: int) -> PromptQuerySet:
        return self.filter(
            Q(first_version__lte=version) & (Q(last_version__isnull=True) | Q(last_version__gte=version))
        )


def in_version_q(prefix: str, version: int | None) -> Q:
    """Prompts (reached through ``prefix``, e.g. ``comparison__prompt``) of one version of their
    set; ``None``: the latest."""
    if version is None:
        return Q(**{f"{prefix}__last_version__isnull": True})
    return Q(**{f"{prefix}__first_version__lte": version}) & (
        Q(**{f"{prefix}__last_version__isnull": True}) | Q(**{f"{prefix}__last_version__gte": version})
    )


class CategoryMapping(models.Model):
    """An admin's choice of what a raw category of one prompt set means: ``raw`` is shown and
    filtered as ``canonical`` (empty: left out of the category filter). Values without a mapping
    are folded automatically (``arena.categories``)."""

    prompt_set = models.ForeignKey(PromptSet, on_delete=models.CASCADE, related_name="category_mappings")
    raw = models.CharField(max_length=100, help_text="The category as the prompts spell it.")
    canonical = models.CharField(
        max_length=100, blank=True, help_text="What it is listed as; empty: left out."
    )

    class Meta:
        ordering = ["prompt_set", "raw"]
        constraints = [models.UniqueConstraint(fields=["prompt_set", "raw"], name="unique_category_mapping")]

    def __str__(self) -> str:
        return f"{self.prompt_set.slug}: {self.raw} → {self.canonical or '(left out)'}"


class Prompt(models.Model):
    prompt_set = models.ForeignKey(PromptSet, on_delete=models.CASCADE, related_name="prompts")
    external_id = models.CharField(max_length=200, help_text="The id the source uses (question_id).")
    category = models.CharField(max_length=100, blank=True, db_index=True)
    turns = models.JSONField(help_text="The user messages, one per turn.")
    references = models.JSONField(default=list, blank=True, help_text="Reference answers, one per turn.")
    rendered = models.JSONField(default=dict, blank=True, editable=False, help_text=RENDERED_HELP)
    metadata = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order within the set.")
    # The versions of the set this prompt belongs to: a prompt changed by a new version is not
    # edited (votes and judgments keep the text they saw) but closed, and a new row made.
    first_version = models.PositiveIntegerField(default=1)
    last_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: still in the latest version."
    )

    objects = PromptQuerySet.as_manager()

    class Meta:
        ordering = ["prompt_set", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt_set", "external_id", "first_version"],
                name="unique_prompt_external_id_version",
            ),
        ]
        indexes = [models.Index(fields=["prompt_set", "last_version"], name="prompt_set_current_idx")]

    def __str__(self) -> str:
        return f"{self.prompt_set.slug}/{self.external_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _keep_rendered(self, kwargs)
        super().save(*args, **kwargs)

    @property
    def turn_count(self) -> int:
        return len(self.turns)


class Contender(models.Model):
    """A model under test. Its answers are imported or generated through its endpoint."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    # Generation through an OpenAI-compatible endpoint (optional; see judge.services.generation).
    base_url = models.URLField(blank=True, validators=[validate_endpoint_host])
    api_model = models.CharField(max_length=200, blank=True, help_text="Model name sent to the endpoint.")
    api_key_env = models.CharField(
        max_length=100, blank=True, validators=[validate_api_key_env], help_text=KEY_ENV_HELP
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContenderAlias(models.Model):
    """Other spellings of a contender's name in imported files (``gpt35`` for gpt-3.5-turbo)."""

    contender = models.ForeignKey(Contender, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["alias"]
        verbose_name_plural = "contender aliases"

    def __str__(self) -> str:
        return f"{self.alias} → {self.contender.name}"


class Answer(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="answers")
    contender = models.ForeignKey(Contender, on_delete=models.CASCADE, related_name="answers")
    turns = models.JSONField(help_text="The contender's reply to each turn.")
    rendered = models.JSONField(default=dict, blank=True, editable=False, help_text=RENDERED_HELP)
    token_counts = models.JSONField(default=list, help_text="Tokens per turn (approximate unless generated).")
    # Per turn: [tokens, headers, list_items, bold] — the covariates of style-controlled ratings.
    style = models.JSONField(default=list)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    origin = models.CharField(max_length=200, blank=True, help_text="Import file or 'generated'.")
    reveals_identity = models.BooleanField(
        default=False, help_text="Mentions a model or vendor name; left out of human comparisons by default."
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt", "contender"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "contender"], name="unique_answer_per_prompt_contender"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contender.name} on {self.prompt}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An edited text is checked for model names again (a new row keeps the flag it is given:
        # imports and generation set it, and staff may clear a false positive without editing).
        if _keep_rendered(self, kwargs) and self.pk is not None:
            self.reveals_identity = reveals_identity(self.turns, settings.ARENA_IDENTITY_WORDS)
        super().save(*args, **kwargs)


class Comparison(models.Model):
    """Two answers to the same prompt, judged on one turn.

    The pair is stored in a canonical order (``answer_a_id < answer_b_id``) so a pair exists
    once per turn; which answer a rater or judge saw first is recorded on the vote/judgment.
    """

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="comparisons")
    answer_a = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="+")
    answer_b = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="+")
    turn = models.PositiveSmallIntegerField(default=1)
    is_gold = models.BooleanField(default=False, help_text="Has a known answer, used to check raters.")
    gold_winner = models.CharField(max_length=10, choices=WINNER_CHOICES, blank=True)
    target_votes = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Overrides the default.")
    vote_count = models.PositiveIntegerField(
        default=0, help_text="Denormalised for choosing the next comparison."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer_a", "answer_b", "turn"], name="unique_comparison_pair_turn"
            ),
            models.CheckConstraint(
                condition=Q(answer_a__lt=F("answer_b")), name="comparison_canonical_order"
            ),
            models.CheckConstraint(condition=Q(turn__gte=1), name="comparison_turn_positive"),
        ]
        indexes = [models.Index(fields=["vote_count", "id"], name="comparison_queue_idx")]

    def __str__(self) -> str:
        return f"Comparison {self.pk} ({self.prompt}, turn {self.turn})"


class RaterPool(models.Model):
    """A group of raters, e.g. one per study or per annotation vendor."""

    name = models.CharField(max_length=200, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="rater_pools", blank=True)
    prompt_sets = models.ManyToManyField(PromptSet, related_name="rater_pools", blank=True)

    def __str__(self) -> str:
        return self.name


class Invite(models.Model):
    """A sign-up link for raters: good for ``max_uses`` sign-ups until it expires or is revoked,
    and only while its creator is active staff (deleting the creator deletes it). The link's token
    is shown once; only its SHA-256 is stored, so a copy of the database holds no usable link."""

    token_hash = models.CharField(max_length=64, unique=True)
    pool = models.ForeignKey(
        RaterPool, null=True, blank=True, on_delete=models.CASCADE, related_name="invites"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invites")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(uses__lte=F("max_uses")), name="invite_uses_within_max"),
            models.CheckConstraint(condition=Q(max_uses__gte=1), name="invite_max_uses_positive"),
        ]

    def __str__(self) -> str:
        return f"invite {self.pk} by {self.created_by_id} ({self.uses}/{self.max_uses})"


class LoginFailure(models.Model):
    """One failed log-in (site or admin), counted against the account name tried and the client
    address it came from (``arena.services.logins``). Rows older than the throttle's window are
    deleted as new ones arrive."""

    username = models.CharField(max_length=150)
    address = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="login_failure_username_at"),
            models.Index(fields=["address", "at"], name="login_failure_address_at"),
            models.Index(fields=["at"], name="login_failure_at"),
        ]

    def __str__(self) -> str:
        return f"failed log-in as {self.username!r} from {self.address} at {self.at:%Y-%m-%d %H:%M:%S}"


class Assignment(models.Model):
    """A comparison leased to one rater, with the side order they are shown.

    The lease expires; an expired, unvoted assignment returns the comparison to the pool.
    """

    class Status(models.TextChoices):
        LEASED = "leased"
        VOTED = "voted"
        SKIPPED = "skipped"
        EXPIRED = "expired"

    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="assignments")
    a_shown_first = models.BooleanField(help_text="True when the comparison's answer A sits on the left.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LEASED, db_index=True)
    leased_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    skip_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rater", "comparison"], name="unique_assignment_per_rater"),
        ]

    def __str__(self) -> str:
        return f"{self.rater} ← {self.comparison} ({self.status})"


GRADE_CHOICES = [
    ("A", "A: valid and satisfying"),
    ("B", "B: acceptable with minor imperfections"),
    ("C", "C: responds to the instruction but has significant errors"),
    ("D", "D: irrelevant or invalid"),
]
HHH_CHOICES = [("model_a", "A is better"), ("model_b", "B is better"), ("same", "The same")]


class RaterVerdict(models.Model):
    """What a human rater says about a comparison, in the comparison's terms (``model_a`` =
    ``comparison.answer_a``): a vote, and each earlier version of one."""

    winner = models.CharField(max_length=10, choices=WINNER_CHOICES)
    grade_a = models.CharField(max_length=1, choices=GRADE_CHOICES, blank=True)
    grade_b = models.CharField(max_length=1, choices=GRADE_CHOICES, blank=True)
    helpful = models.CharField(max_length=10, choices=HHH_CHOICES, blank=True)
    honest = models.CharField(max_length=10, choices=HHH_CHOICES, blank=True)
    harmless = models.CharField(max_length=10, choices=HHH_CHOICES, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        abstract = True


class Vote(RaterVerdict):
    """A human rater's verdict on one comparison. ``winner`` names the comparison's answers
    (``model_a`` = ``comparison.answer_a``), never the screen side; the side order is kept in
    ``a_shown_first``."""

    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="votes")
    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="vote", null=True)
    a_shown_first = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    seconds_spent = models.FloatField(null=True, blank=True, help_text="From lease to vote.")
    version = models.PositiveIntegerField(
        default=1, help_text="1 when cast; one more each time the rater changes it."
    )
    changed_at = models.DateTimeField(null=True, blank=True, help_text="When the rater last changed it.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rater", "comparison"], name="unique_vote_per_rater_comparison"),
            models.CheckConstraint(
                condition=Q(winner__in=["model_a", "model_b", "tie", "both_bad"]), name="vote_winner_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Vote {self.pk}: {self.rater} on {self.comparison_id}: {self.winner}"


class VoteRevision(RaterVerdict):
    """An earlier version of a vote, kept when its rater changed it.

    The ``Vote`` row always holds the latest version — so "one vote per rater and comparison"
    stays a database constraint and every rating reads the latest verdict — and each change
    first copies the version it replaces here, so none is ever lost.
    """

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    recorded_at = models.DateTimeField(help_text="When this version was stored.")
    replaced_at = models.DateTimeField(help_text="When the next version replaced it.")

    class Meta:
        ordering = ["vote", "version"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "version"], name="unique_vote_revision_version"),
        ]

    def __str__(self) -> str:
        return f"Vote {self.vote_id} version {self.version}: {self.winner}"


class RaterPreference(models.Model):
    """How one rater likes the rating page; a missing row or ``None`` means the site default."""

    rater = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rating_preference"
    )
    one_click = models.BooleanField(
        null=True,
        blank=True,
        help_text="The verdict buttons submit at once (None: ARENA_ONE_CLICK_VOTING decides).",
    )

    def __str__(self) -> str:
        return f"{self.rater} preferences"


class ImportBatch(models.Model):
    """One imported file. The (kind, source, sha256) key makes re-importing a file a no-op."""

    class Kind(models.TextChoices):
        ANSWERS = "answers"
        VERDICTS = "verdicts"
        SCORES = "scores"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=200, help_text="Verdict source name, or the prompt set for answers.")
    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=50)
    prompt_set = models.ForeignKey(PromptSet, on_delete=models.SET_NULL, null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "source", "sha256"], name="unique_import_per_file"),
        ]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} → {self.source}"


class VerdictSource(models.Model):
    """A named origin of imported verdicts: ``prd-human``, ``mtbench-gpt4`` ...

    Battles from it carry the source name ``import:<name>``. ``is_human`` tells reports whether
    these are people's votes or an LLM's judgments.
    """

    name = models.SlugField(max_length=100, unique=True)
    is_human = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class ImportedVerdict(models.Model):
    """A pairwise verdict read from a file (a human vote or an LLM judgment recorded elsewhere)."""

    source = models.ForeignKey(VerdictSource, on_delete=models.CASCADE, related_name="verdicts")
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="verdicts")
    line = models.PositiveIntegerField()
    model_a = models.ForeignKey(Contender, on_delete=models.CASCADE, related_name="+")
    model_b = models.ForeignKey(Contender, on_delete=models.CASCADE, related_name="+")
    winner = models.CharField(
        max_length=10, choices=WINNER_CHOICES, blank=True, help_text="Empty: unparsable."
    )
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    question_ref = models.CharField(
        max_length=200, blank=True, help_text="The source's prompt id, linked or not."
    )
    turn = models.PositiveSmallIntegerField(default=1)
    position_known = models.BooleanField(default=True, help_text="model_a was shown first.")
    # 1 and 2 are the two presentation orders of one LLM judgment; 0 is a single verdict.
    judged_order = models.PositiveSmallIntegerField(default=0)
    rater = models.CharField(max_length=200, blank=True)
    tstamp = models.FloatField(null=True, blank=True)
    raw_output = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "line", "judged_order"], name="unique_verdict_per_batch_line"
            ),
        ]
        indexes = [models.Index(fields=["source", "prompt"], name="imported_verdict_source_idx")]

    def __str__(self) -> str:
        return f"{self.source}: {self.model_a} vs {self.model_b} → {self.winner or 'unparsed'}"


class ImportedScore(models.Model):
    """A single-answer grade (1-10) read from a file, e.g. FastChat's ``*_single.jsonl``.

    ``score`` is None where the source's judge wrote no readable rating (FastChat's -1): kept
    and counted as unparsed, never averaged. Scores carry the source name ``import:<name>``.
    """

    source = models.ForeignKey(VerdictSource, on_delete=models.CASCADE, related_name="scores")
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="scores")
    line = models.PositiveIntegerField()
    model = models.ForeignKey(Contender, on_delete=models.CASCADE, related_name="+")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    question_ref = models.CharField(
        max_length=200, blank=True, help_text="The source's prompt id, linked or not."
    )
    turn = models.PositiveSmallIntegerField(default=1)
    score = models.FloatField(null=True, blank=True, help_text="Empty: the rating could not be parsed.")
    rater = models.CharField(max_length=200, blank=True)
    tstamp = models.FloatField(null=True, blank=True)
    raw_output = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="unique_score_per_batch_line"),
        ]
        indexes = [models.Index(fields=["source", "prompt"], name="imported_score_source_idx")]

    def __str__(self) -> str:
        return f"{self.source}: {self.model} → {self.score}"


class RatingSnapshot(models.Model):
    """A computed leaderboard (or report) for one set of filters, served without recomputing."""

    key = models.CharField(max_length=1000, unique=True, help_text="Canonical form of the filters.")
    params = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    battle_count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)
    seconds = models.FloatField(default=0.0, help_text="How long the computation took.")
    # Bounds the stored snapshots: the least recently read go first (ARENA_SNAPSHOT_MAX), and
    # one unread for ARENA_SNAPSHOT_UNREAD_SECONDS is deleted instead of being refreshed.
    last_read_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.key


def max_length_of(model: type[models.Model], field: str) -> int:
    """The ``max_length`` of one of ``model``'s CharFields: the longest value it stores."""
    column = model._meta.get_field(field)
    assert isinstance(column, models.CharField) and column.max_length is not None, field
    return column.max_length
