from __future__ import annotations

from django import forms

from arena.models import Contender, PromptSet
from judge.models import Judge, JudgeRun


class RunForm(forms.Form):
    judge = forms.ModelChoiceField(queryset=Judge.objects.all())
    prompt_set = forms.ModelChoiceField(queryset=PromptSet.objects.all(), to_field_name="slug")
    mode = forms.ChoiceField(choices=JudgeRun.Mode.choices, initial=JudgeRun.Mode.PAIRWISE)
    contenders = forms.ModelMultipleChoiceField(
        queryset=Contender.objects.all(), required=False, help_text="None selected: every contender with answers."
    )
    baseline = forms.ModelChoiceField(
        queryset=Contender.objects.all(), required=False, help_text="Pairwise against this one model only."
    )
    turn = forms.TypedChoiceField(choices=[("", "every turn"), ("1", "1"), ("2", "2")], coerce=int,
                                  required=False, empty_value=None)
    limit = forms.IntegerField(min_value=1, required=False, help_text="At most this many prompts.")
    inconsistent = forms.ChoiceField(choices=JudgeRun.Inconsistent.choices, initial=JudgeRun.Inconsistent.TIE,
                                     label="Orders disagree")

    def run_options(self) -> dict[str, object]:
        data = self.cleaned_data
        return {
            "judge": data["judge"], "prompt_set": data["prompt_set"], "mode": data["mode"],
            "contenders": list(data["contenders"]) or None, "baseline": data["baseline"], "turn": data["turn"],
            "limit": data["limit"], "inconsistent": data["inconsistent"],
        }
