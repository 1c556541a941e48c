from __future__ import annotations

from typing import Any, TypedDict

from django import forms

from arena.models import Contender, PromptSet
from judge.models import Judge, JudgeRun
from judge.services.evaluate import EvaluationOptions, max_cost_parse


class RunOptions(TypedDict):
    """A run's options as the form cleaned them: ``judge_run_create``'s keywords."""

    judge: Judge
    prompt_set: PromptSet
    mode: str
    contenders: list[Contender] | None
    baseline: Contender | None
    turn: int | None
    limit: int | None
    inconsistent: str


class RunForm(forms.Form):
    judge = forms.ModelChoiceField(queryset=Judge.objects.all())
    prompt_set = forms.ModelChoiceField(queryset=PromptSet.objects.all(), to_field_name="slug")
    mode = forms.ChoiceField(choices=JudgeRun.Mode.choices, initial=JudgeRun.Mode.PAIRWISE)
    contenders = forms.ModelMultipleChoiceField(
        queryset=Contender.objects.all(),
        required=False,
        help_text="None selected: every contender with answers.",
    )
    baseline = forms.ModelChoiceField(
        queryset=Contender.objects.all(), required=False, help_text="Pairwise against this one model only."
    )
    turn = forms.TypedChoiceField(
        choices=[("", "every turn"), ("1", "1"), ("2", "2")], coerce=int, required=False, empty_value=None
    )
    limit = forms.IntegerField(min_value=1, required=False, help_text="At most this many prompts.")
    inconsistent = forms.ChoiceField(
        choices=JudgeRun.Inconsistent.choices, initial=JudgeRun.Inconsistent.TIE, label="Orders disagree"
    )

    def run_options(self) -> RunOptions:
        data = self.cleaned_data
        return RunOptions(
            judge=data["judge"],
            prompt_set=data["prompt_set"],
            mode=data["mode"],
            contenders=list(data["contenders"]) or None,
            baseline=data["baseline"],
            turn=data["turn"],
            limit=data["limit"],
            inconsistent=data["inconsistent"],
        )


class EvaluationForm(forms.Form):
    """The evaluate command's options. Names and choices come from the database, but what is
    allowed is checked by ``evaluation_plan`` (judge.services.evaluate), with the command's
    messages, shown next to the field at fault: plain text fields, so an unknown name gets that
    message rather than a form's own."""

    contender = forms.CharField(
        max_length=100, help_text="An existing contender, or a new name with its endpoint below."
    )
    base_url = forms.CharField(
        max_length=200,
        required=False,
        label="Base URL",
        help_text="New contender (or a changed endpoint): its OpenAI-compatible base URL.",
    )
    model = forms.CharField(max_length=200, required=False, help_text="The model name the endpoint serves.")
    api_key_env = forms.CharField(
        max_length=100,
        required=False,
        label="API key variable",
        help_text="NAME of the environment variable holding its key (never the key).",
    )
    prompt_set = forms.CharField(max_length=100, widget=forms.Select)
    judge = forms.CharField(max_length=100, widget=forms.Select)
    mode = forms.CharField(
        widget=forms.Select(choices=[("single", "single (scores)"), ("pairwise", "pairwise")]),
        initial="single",
    )
    baseline = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.Select,
        help_text="Pairwise: its win rate against this contender.",
    )
    against = forms.CharField(
        max_length=1000,
        required=False,
        help_text="Pairwise, instead of a baseline: contenders a,b,c (the leaderboard).",
    )
    turn = forms.CharField(
        widget=forms.Select(choices=[("all", "every turn"), ("1", "1"), ("2", "2")]), initial="all"
    )
    max_cost = forms.CharField(
        max_length=30,
        required=False,
        label="Max cost (USD)",
        help_text="Refuse to start above this estimate; stop when the cost passes it.",
    )
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contenders = list(Contender.objects.order_by("name").values_list("name", flat=True))
        self.fields["prompt_set"].widget.choices = [
            (s, s) for s in PromptSet.objects.order_by("slug").values_list("slug", flat=True)
        ]
        self.fields["judge"].widget.choices = [
            (n, n) for n in Judge.objects.order_by("name").values_list("name", flat=True)
        ]
        self.fields["baseline"].widget.choices = [("", "none")] + [(n, n) for n in contenders]
        self.fields["contender"].widget.attrs.update(list="contender-names", autocomplete="off")
        self.contender_names = contenders

    def clean_turn(self) -> int | None:
        turn = self.cleaned_data["turn"]
        if turn not in ("all", "1", "2"):
            raise forms.ValidationError(f"Unknown turn {turn!r}; use all, 1 or 2.")
        return None if turn == "all" else int(turn)

    def evaluation_options(self) -> EvaluationOptions:
        """The options, checked like the command's (EvaluationError naming the field otherwise)."""
        d = self.cleaned_data
        return EvaluationOptions(
            contender=d["contender"].strip(),
            prompt_set=d["prompt_set"],
            judge=d["judge"],
            mode=d["mode"],
            baseline=d["baseline"] or None,
            against=tuple(n.strip() for n in d["against"].split(",") if n.strip()),
            turn=d["turn"],
            max_cost=max_cost_parse(d["max_cost"]),
            base_url=d["base_url"].strip(),
            model=d["model"].strip(),
            api_key_env=d["api_key_env"].strip(),
        )
