"""Live battles: a rater's own prompt, two hidden contenders streaming side by side, a vote.

A battle stores its whole conversation (every prompt and both full answers per turn, with the
first-token and total time of each side), the order the sides were shown in, tokens and cost per
side, the vote and how the battle ended. Voted battles that are not void are the battles of source
``live`` (``reports.selectors.battle_columns``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from arena.models import WINNER_CHOICES, Contender


class LiveContender(models.Model):
    """A contender taking part in live battles, with its sampling weight and prices."""

    contender = models.OneToOneField(Contender, on_delete=models.CASCADE, related_name="live")
    enabled = models.BooleanField(default=True)
    weight = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0)], help_text="Relative chance to be drawn; 0 never."
    )
    added_at = models.DateTimeField(
        default=timezone.now, help_text="New contenders (ARENA_LIVE_NEW_DAYS) are drawn more often."
    )
    temperature = models.FloatField(default=0.7, validators=[MinValueValidator(0.0)])
    max_tokens = models.PositiveIntegerField(default=1024, validators=[MinValueValidator(1)])
    price_input = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0)], help_text="US$ per million input tokens."
    )
    price_output = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0)], help_text="US$ per million output tokens."
    )
    stand_in = models.BooleanField(
        default=False, help_text="The demo's stand-in for a real model (the test server)."
    )

    def __str__(self) -> str:
        return f"{self.contender.name} (live, weight {self.weight:g})"

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_input + output_tokens * self.price_output) / 1e6


class LiveBattle(models.Model):
    class Status(models.TextChoices):
        STREAMING = "streaming", "Streaming"
        ANSWERED = "answered", "Both answered, waiting for a vote"
        VOTED = "voted", "Voted"
        ABANDONED = "abandoned", "Abandoned"
        ERROR = "error", "Ended by an error"

    ACTIVE = (Status.STREAMING, Status.ANSWERED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="live_battles"
    )
    address = models.CharField(max_length=64, db_index=True)
    contender_a = models.ForeignKey(Contender, on_delete=models.PROTECT, related_name="+")
    contender_b = models.ForeignKey(Contender, on_delete=models.PROTECT, related_name="+")
    a_shown_first = models.BooleanField(help_text="True when contender A was the left column.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STREAMING, db_index=True)
    turns = models.PositiveSmallIntegerField(default=0, help_text="Turns both sides finished.")
    conversation = models.JSONField(
        default=list,
        help_text=(
            "One entry per turn: prompt, a, b (full answers), timing {a, b: first_token_ms, total_ms}."
        ),
    )
    input_tokens_a = models.PositiveIntegerField(default=0)
    output_tokens_a = models.PositiveIntegerField(default=0)
    input_tokens_b = models.PositiveIntegerField(default=0)
    output_tokens_b = models.PositiveIntegerField(default=0)
    cost_a = models.FloatField(default=0.0)
    cost_b = models.FloatField(default=0.0)
    winner = models.CharField(max_length=10, choices=WINNER_CHOICES, blank=True)
    reveals_identity = models.BooleanField(
        default=False,
        help_text=(
            "An answer named a model or vendor as shown: the vote is kept but the battle is void for ratings."
        ),
    )
    error = models.TextField(
        blank=True, help_text="What ended the battle (staff only; the rater saw a neutral message)."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    voted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="live_battle_active_idx"),
            models.Index(fields=["user", "created_at"], name="live_battle_user_idx"),
            models.Index(fields=["address", "created_at"], name="live_battle_address_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(contender_a=models.F("contender_b")), name="live_two_contenders"
            ),
            models.CheckConstraint(
                condition=models.Q(status="voted") | models.Q(winner=""), name="live_winner_only_voted"
            ),
        ]

    def __str__(self) -> str:
        return f"live #{self.pk}: {self.contender_a_id} vs {self.contender_b_id} ({self.status})"

    @property
    def counts(self) -> bool:
        """A battle of source ``live``: voted and not void."""
        return self.status == self.Status.VOTED and not self.reveals_identity

    @property
    def tokens(self) -> int:
        return self.input_tokens_a + self.output_tokens_a + self.input_tokens_b + self.output_tokens_b


class LiveRefusal(models.Model):
    """A prompt the moderation endpoint refused: never sent to a contender, kept for staff."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    address = models.CharField(max_length=64)
    battle = models.ForeignKey(
        LiveBattle,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="refusals",
        help_text="Set for a refused follow-up.",
    )
    prompt = models.TextField()
    categories = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"refused ({', '.join(self.categories) or 'flagged'}): {self.prompt[:60]}"


class LivePromptReview(models.Model):
    """Staff's decision on a live prompt: kept for a custom prompt set, or left out."""

    text_hash = models.CharField(max_length=64, unique=True, help_text="sha256 of the normalised prompt.")
    text = models.TextField()
    keep = models.BooleanField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{'keep' if self.keep else 'drop'}: {self.text[:60]}"
