"""Citizen-facing URLs (German paths: they are what citizens see and share)."""

from django.urls import path

from .views import attachments, decision_letter, info_reply, pages, service, status, wizard

app_name = "citizen"

urlpatterns = [
    path("barrierefreiheit/", pages.accessibility, name="accessibility"),
    path("barrierefreiheit/danke/", pages.accessibility_thanks, name="accessibility_thanks"),
    path("impressum/", pages.imprint, name="imprint"),
    path("leichte-sprache/", pages.easy_read, name="easy_read"),
    path("datenschutz/", pages.privacy, name="privacy"),
    path("sitzung/", pages.keepalive, name="keepalive"),
    path(
        "gemeinden/<str:ags>/leistungen/<slug:slug>/",
        service.service_page,
        name="service",
    ),
    path("antrag/<uuid:draft_id>/", wizard.draft_entry, name="draft"),
    path("antrag/<uuid:draft_id>/schritt/<str:step>/", wizard.step_view, name="step"),
    path("antrag/<uuid:draft_id>/speichern/", wizard.save_for_later, name="save"),
    path("antrag/<uuid:draft_id>/pruefen/", wizard.check_answers, name="check"),
    path(
        "antrag/<uuid:draft_id>/datei/<uuid:attachment_id>/",
        attachments.draft_attachment_download,
        name="attachment",
    ),
    path("fortsetzen/<str:token>/", wizard.resume, name="resume"),
    path("bestaetigung/<str:reference>/", status.confirmation, name="confirmation"),
    path("status/", status.status_lookup, name="status"),
    path("status/zugangscode/", status.access_code_lost, name="access_code_lost"),
    path("status/<str:reference>/", status.status_detail, name="status_detail"),
    path("status/<str:reference>/zugang/<str:token>/", status.status_link, name="status_link"),
    path("status/<str:reference>/zurueckziehen/", status.withdraw, name="withdraw"),
    path("status/<str:reference>/rueckfrage/", info_reply.info_reply, name="info_reply"),
    path("status/<str:reference>/eingangsbestaetigung.pdf", status.receipt, name="receipt"),
    path(
        "status/<str:reference>/bescheid/<int:letter_id>/",
        decision_letter.decision_letter,
        name="decision_letter",
    ),
]
