from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from arena.selectors.overview import overview_get


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "arena/home.html", {"overview": overview_get()})
