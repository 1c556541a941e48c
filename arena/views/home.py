from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from reports.selectors.overview import overview_get


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "arena/home.html", {"overview": overview_get()})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): send them to ours.
    Not permanent: the static file's hashed name changes with its content."""
    return redirect(static("arena/favicon.svg"))
