"""Bescheid templates: statewide defaults and each office's own versions, scoped on the server.

Platform administrators and the Kompetenzzentrum keep the statewide defaults
(no office); an office lead sees those (read-only, to start from) and keeps
their own offices' versions, which win for their cases. A template of another
office is a 404 (`common.ScopedObjectMixin`); an office outside the lead's
own cannot be chosen. Unknown placeholders are refused with a German message.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from municipalities.models import Office

from .. import case_selectors
from ..decisions import LEGAL_REMEDY_PLACEHOLDERS, PLACEHOLDERS, placeholders_unknown
from ..models import DecisionTemplate, StaffMembership
from ..texts import MAX_TEXT_LENGTH
from .common import ScopedObjectMixin


def _lead_office_ids(request) -> set[int]:
    return case_selectors.office_ids_for_user(user=request.user, roles=(StaffMembership.Role.LEAD,))


def _statewide_editor(request) -> bool:
    """Platform administrators and the Kompetenzzentrum (statewide roles without an office)."""
    if case_selectors.is_platform_admin(user=request.user):
        return True
    return StaffMembership.objects.filter(
        user=request.user, role=StaffMembership.Role.KOMPETENZZENTRUM
    ).exists()


class DecisionTemplateForm(forms.ModelForm):
    class Meta:
        model = DecisionTemplate
        fields = ["service", "outcome", "office", "body", "legal_remedy"]

    def __init__(self, *args, offices=None, office_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("body", "legal_remedy"):
            self.fields[name].max_length = MAX_TEXT_LENGTH
            self.fields[name].widget.attrs["maxlength"] = str(MAX_TEXT_LENGTH)
        if offices is not None:
            self.fields["office"].queryset = offices
        self.fields["office"].required = office_required

    def _placeholders_checked(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.cleaned_data.get(name, "")
        unknown = placeholders_unknown(text=value, allowed=allowed)
        if unknown:
            raise forms.ValidationError(
                _("Unbekannte Platzhalter: %(unknown)s. Erlaubt sind: %(allowed)s.")
                % {
                    "unknown": ", ".join("{" + name + "}" for name in unknown),
                    "allowed": ", ".join("{" + name + "}" for name in allowed),
                }
            )
        return value

    def clean_body(self) -> str:
        return self._placeholders_checked("body", PLACEHOLDERS)

    def clean_legal_remedy(self) -> str:
        return self._placeholders_checked("legal_remedy", LEGAL_REMEDY_PLACEHOLDERS)


@admin.register(DecisionTemplate)
class DecisionTemplateAdmin(ScopedObjectMixin, admin.ModelAdmin):
    form = DecisionTemplateForm
    list_display = ["service", "outcome", "office_display", "updated_at"]
    list_filter = ["outcome"]
    search_fields = ["service__name_de"]
    list_select_related = ["service", "office"]

    @admin.display(description=_("gilt für"))
    def office_display(self, obj):
        return obj.office.name if obj.office else _("landesweit (Standard)")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if case_selectors.is_platform_admin(user=request.user):
            return queryset
        if _statewide_editor(request):
            return queryset.filter(office__isnull=True)
        return queryset.filter(Q(office__isnull=True) | Q(office_id__in=_lead_office_ids(request)))

    def _may_edit(self, request, obj) -> bool:
        if obj is None:
            return True
        if case_selectors.is_platform_admin(user=request.user):
            return True
        if obj.office_id is None:
            return _statewide_editor(request)
        return obj.office_id in _lead_office_ids(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        platform = case_selectors.is_platform_admin(user=request.user)
        statewide = _statewide_editor(request)
        if platform:
            offices = Office.objects.all()
        elif statewide:
            offices = Office.objects.none()
        else:
            offices = Office.objects.filter(pk__in=_lead_office_ids(request))
        office_required = not statewide

        class ScopedForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, offices=offices, office_required=office_required, **inner)

        return ScopedForm
