"""The service page of one municipality: what you need, fee, time, office; starts a draft."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from forms_catalog.models import Service
from forms_catalog.selectors import fee_statement, published_version
from municipalities.models import Gemeinde
from municipalities.selectors import NoResponsibleOffice, fee_parameters, responsible_office
from submissions.ratelimit import rate_limit_hit

from ..drafts import draft_create, draft_grant_session
from .common import allow_methods, language, localized, too_many_requests


def current_gemeinde(ags: str) -> Gemeinde:
    if not (len(ags) == 8 and ags.isdigit()):
        raise Http404
    gemeinde = Gemeinde.objects.current().select_related("kreis", "verband").filter(ags=ags).first()
    if gemeinde is None:
        raise Http404
    return gemeinde


@allow_methods("GET", "HEAD", "POST")
def service_page(request: HttpRequest, ags: str, slug: str) -> HttpResponse:
    gemeinde = current_gemeinde(ags)
    service = Service.objects.filter(slug=slug, is_active=True).first()
    if service is None:
        raise Http404
    version = published_version(service=service)
    if request.method == "POST":
        if version is None:
            return redirect(request.path)
        if rate_limit_hit(request=request, scope="start"):
            return too_many_requests(request)
        draft = draft_create(
            service=service, gemeinde=gemeinde, version=version, language=language()
        )
        draft_grant_session(request=request, draft=draft)
        return redirect("citizen:draft", draft_id=draft.id)
    try:
        office = responsible_office(service=service, gemeinde=gemeinde)
    except NoResponsibleOffice:
        office = None
    lang = language()
    return render(
        request,
        "submissions/service.html",
        {
            "gemeinde": gemeinde,
            "service": service,
            "service_name": service.name(lang),
            "summary": localized(service, "summary", lang),
            "requirements": localized(service, "requirements", lang),
            "fee_note": localized(service, "fee_note", lang),
            "processing_time": localized(service, "processing_time", lang),
            "version": version,
            "office": office,
            "fees": fee_statement(
                version=version,
                configured=fee_parameters(service=service, gemeinde=gemeinde),
                municipality=gemeinde.display_name,
                language=lang,
            )
            if version is not None
            else None,
        },
    )
