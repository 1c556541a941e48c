"""The battle page (the socket does the work: ``live.consumers``) and staff's review of live prompts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def battle(request: HttpRequest) -> HttpResponse:
    return render(request, "live/battle.html", {
        "max_turns": settings.ARENA_LIVE_MAX_TURNS,
        "max_chars": settings.ARENA_LIVE_MAX_PROMPT_CHARS,
        "verdicts": [("left", "Left is better", "1"), ("right", "Right is better", "2"),
                     ("tie", "Tie", "3"), ("both_bad", "Both are bad", "4")],
    })
