from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from municipalities.selectors import MAX_QUERY_LENGTH


class GemeindeSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Gemeinde oder Postleitzahl"),
        max_length=MAX_QUERY_LENGTH,
        required=False,
        help_text=_("z. B. „Ilmenau“, „Bad Salzungen“ oder „07743“"),
        widget=forms.TextInput(
            attrs={"class": "kern-form-input__input", "autocomplete": "address-level2"}
        ),
    )
