"""Office leads keep the Rückfrage templates of their own offices, scoped on the server.

Every view resolves templates through `message_templates_for_user`: another
office's template is a 404 (`common.ScopedObjectMixin`), and the office choice
offers only the lead's own offices, so a forged POST naming another one is a
form error. A text naming an unknown placeholder is refused with a German message.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from municipalities.models import Office

from ..message_templates import (
    PLACEHOLDERS,
    message_template_body_validate,
    message_template_offices_for_user,
    message_templates_for_user,
)
from ..models import MessageTemplate
from ..texts import MAX_TEXT_LENGTH, CaseWorkError, text_clean
from .common import InScopeOnlyMixin, ScopedObjectMixin


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["office", "service", "title", "body"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "body" in self.fields:
            body = self.fields["body"]
            body.max_length = MAX_TEXT_LENGTH
            body.widget.attrs.update({"rows": 12, "maxlength": str(MAX_TEXT_LENGTH)})
            body.help_text = _("Platzhalter: %(names)s") % {
                "names": "; ".join(f"{{{name}}} = {label}" for name, label in PLACEHOLDERS.items())
            }

    def clean_body(self) -> str:
        try:
            body = text_clean(self.cleaned_data.get("body", ""))
        except CaseWorkError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not body:
            raise forms.ValidationError(_("Bitte geben Sie einen Text ein."))
        message_template_body_validate(body)
        return body

    def clean_title(self) -> str:
        try:
            return text_clean(self.cleaned_data.get("title", ""))
        except CaseWorkError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(MessageTemplate)
class MessageTemplateAdmin(InScopeOnlyMixin, ScopedObjectMixin, admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["title", "service", "office"]
    list_filter = ["service"]
    search_fields = ["title"]
    list_select_related = ["service", "office"]

    def get_queryset(self, request):
        allowed = message_templates_for_user(user=request.user)
        return super().get_queryset(request).filter(pk__in=allowed.values("pk"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            offices = message_template_offices_for_user(user=request.user)
            queryset = Office.objects.order_by("name")
            kwargs["queryset"] = queryset if offices is None else queryset.filter(pk__in=offices)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        offices = message_template_offices_for_user(user=request.user)
        if offices and len(offices) == 1:
            initial.setdefault("office", next(iter(offices)))
        return initial

    def _in_scope(self, request) -> bool:
        offices = message_template_offices_for_user(user=request.user)
        return offices is None or bool(offices)
