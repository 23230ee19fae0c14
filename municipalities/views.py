"""Citizen pages: find your Gemeinde, see who is responsible there, data sources."""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from municipalities.forms import GemeindeSearchForm
from municipalities.models import Gemeinde
from municipalities.selectors import (
    NoResponsibleOffice,
    SearchHit,
    active_services,
    is_postcode_query,
    postcode_candidates,
    responsible_office,
    search_gemeinden_hits,
)


def gemeinde_search(request: HttpRequest) -> HttpResponse:
    form = GemeindeSearchForm(request.GET or None)
    results: list[SearchHit] = []
    query = ""
    ambiguous_postcode = ""
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"]
        results = search_gemeinden_hits(query=query)
        code = query.replace(" ", "")
        if is_postcode_query(code) and len(code) == 5 and len(postcode_candidates(code=code)) > 1:
            ambiguous_postcode = code
    return render(
        request,
        "municipalities/search.html",
        {
            "form": form,
            "error_forms": [form] if form.errors else [],
            "query": query,
            "results": results,
            "searched": bool(query),
            "ambiguous_postcode": ambiguous_postcode,
        },
    )


def gemeinde_detail(request: HttpRequest, ags: str) -> HttpResponse:
    if not re.fullmatch(r"\d{8}", ags):
        raise Http404
    gemeinde = (
        Gemeinde.objects.select_related("kreis", "verband", "verband__serving_gemeinde")
        .filter(ags=ags)
        .first()
    )
    if gemeinde is None:
        raise Http404
    is_current = gemeinde.is_valid_on(timezone.localdate())
    services = []
    if is_current:
        for service in active_services():
            try:
                office = responsible_office(service=service, gemeinde=gemeinde)
            except NoResponsibleOffice:
                office = None
            services.append({"service": service, "office": office})
    return render(
        request,
        "municipalities/detail.html",
        {"gemeinde": gemeinde, "is_current": is_current, "services": services},
    )


def sources(request: HttpRequest) -> HttpResponse:
    return render(request, "municipalities/sources.html")
