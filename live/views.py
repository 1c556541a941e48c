"""The battle page (the socket does the work: ``live.consumers``) and staff's review of live prompts."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from arena.views.permissions import staff_required


@login_required
def battle(request: HttpRequest) -> HttpResponse:
    from live.demo import stand_ins_enabled

    return render(
        request,
        "live/battle.html",
        {
            "stand_ins": stand_ins_enabled(),
            "max_turns": settings.ARENA_LIVE_MAX_TURNS,
            "max_chars": settings.ARENA_LIVE_MAX_PROMPT_CHARS,
            "verdicts": [
                ("left", "Left is better", "1"),
                ("right", "Right is better", "2"),
                ("tie", "Tie", "3"),
                ("both_bad", "Both are bad", "4"),
            ],
        },
    )


PROMPT_SET_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


@staff_required
def live_prompts(request: HttpRequest) -> HttpResponse:
    """Staff review the prompts raters typed: keep or drop each, then make a prompt set of the kept."""
    from live import services  # the markdown and identity machinery loads with the first request

    message = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("keep", "drop"):
            text = request.POST.get("text", "")
            if text.strip() and "\x00" not in text:
                services.prompt_review(text=text, keep=action == "keep", user_id=request.user.pk)
                return redirect("live_prompts")
            message, status = "No prompt was given.", 400
        elif action == "make_set":
            slug = request.POST.get("slug", "").strip()
            name = request.POST.get("name", "").strip()[:200]
            if not PROMPT_SET_SLUG.fullmatch(slug):
                message, status = "slug: letters, digits, - and _, at most 64 characters.", 400
            else:
                result = services.prompt_set_from_reviews(slug=slug, name=name)
                message = (
                    f"Prompt set {result.slug}: {result.added} prompt(s) added, "
                    f"{result.already} already in it."
                )
        else:
            message, status = "Unknown action.", 400
    context = {
        "pending": services.live_prompts(reviewed=False),
        "reviewed": services.live_prompts(reviewed=True),
        "message": message,
    }
    return render(request, "live/live_prompts.html", context, status=status)
