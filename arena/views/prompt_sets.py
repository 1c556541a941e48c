"""The prompt-set pages: the list (with the staff upload form) and one set's prompts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from arena.imports.parsers import CUSTOM_PROMPT_FORMATS
from arena.imports.rows import ImportFormatError
from arena.models import PromptSet
from arena.params import ParamError, QueryReader
from arena.services.prompt_sets import prompt_set_import
from reports.selectors.prompt_sets import prompt_set_page, prompt_sets_list

UPLOAD_MAX_BYTES = 50 * 1024 * 1024


def _list(
    request: HttpRequest, *, error: str = "", form: dict | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "arena/prompt_sets.html",
        {
            "rows": prompt_sets_list(),
            "formats": sorted(CUSTOM_PROMPT_FORMATS),
            "error": error,
            "form": form or {},
            "message": request.GET.get("imported", "")[:300],
        },
        status=status,
    )


def _save(upload: UploadedFile, folder: Path) -> Path:
    # Keep the name the person gave it (errors name it), without any folder part.
    path = folder / (Path(upload.name or "upload").name or "upload")
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


@require_http_methods(["GET", "POST"])
def prompt_sets(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list(request)
    if not (request.user.is_authenticated and request.user.is_staff):
        return _list(request, error="Only staff can upload prompt sets.", status=403)
    form = {k: request.POST.get(k, "")[:300] for k in ("slug", "name", "format")}
    upload, refs = request.FILES.get("file"), request.FILES.get("references")
    if upload is None:
        return _list(request, error="file: choose a file to upload.", form=form, status=400)
    if form["format"] not in CUSTOM_PROMPT_FORMATS:
        return _list(
            request,
            error=f"format: one of {', '.join(sorted(CUSTOM_PROMPT_FORMATS))}.",
            form=form,
            status=400,
        )
    if (upload.size and upload.size > UPLOAD_MAX_BYTES) or (
        refs is not None and refs.size and refs.size > UPLOAD_MAX_BYTES
    ):
        return _list(
            request, error=f"file: at most {UPLOAD_MAX_BYTES // 1024 // 1024} MB.", form=form, status=400
        )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "refs").mkdir()
        path = _save(upload, folder)
        ref_path = _save(refs, folder / "refs") if refs is not None else None
        try:
            result = prompt_set_import(
                path=path,
                fmt=form["format"],
                slug=form["slug"].strip(),
                name=form["name"].strip() or None,
                references=ref_path,
            )
        except ImportFormatError as exc:
            message = str(exc).replace(str(folder / "refs") + "/", "").replace(str(folder) + "/", "")
            return _list(request, error=f"{message} — nothing was imported.", form=form, status=400)
    return redirect(f"/prompt-sets/{result.slug}/?imported=1")


@require_GET
def prompt_set(request: HttpRequest, prompt_set: str) -> HttpResponse:
    pset = get_object_or_404(PromptSet, slug=prompt_set)
    reader = QueryReader(request.GET, allowed=["q", "page", "version", "imported"])
    page = prompt_set_page(prompt_set=pset, reader=reader)
    context = {"page": page, "imported": request.GET.get("imported") == "1"}
    try:
        reader.finish()
    except ParamError as exc:
        context["error"] = exc
        return render(request, "arena/prompt_set.html", context, status=400)
    return render(request, "arena/prompt_set.html", context)
