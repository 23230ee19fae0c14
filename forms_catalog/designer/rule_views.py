"""Designer pages "Bedingungen und Prüfregeln" and "Gebühren" (admin views).

Thin: they read the draft, build the pickers, call `rule_services` and show
the services' German messages next to the input they name, with everything
typed kept. Editors only (403 otherwise); a version that is not a draft is
shown without forms and every POST to it is refused by the services.
Row buttons ("Bedingung hinzufügen", "Bedingung entfernen", "Auswahl
übernehmen") re-render the page without saving, so the pickers work without
JavaScript.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from ..checks import definition_errors
from ..fields.money import format_money
from ..models import EDITOR_PERMISSION, FormVersion
from ..selectors import calculate_fee, fee_statement
from ..services import FormVersionError
from .rule_expressions import (
    COMPARISON_LABELS,
    Element,
    Row,
    RowError,
    all_top_level_fields,
    amount_from,
    comparison_from,
    describe,
    element_path,
    element_tree,
    expression_to_rows,
    fields_before,
    format_amount,
    group_item_fields,
    labels_of,
    locate,
    parse_amount,
    repeatable_groups,
    split_assertion,
    text_of,
)
from .rule_forms import (
    ConditionPicker,
    FeeLineForm,
    FeeSettingsForm,
    ParameterForm,
    ValidationRuleForm,
    combine_from_post,
    rows_from_post,
)
from .rule_services import (
    condition_set,
    fee_line_delete,
    fee_line_save,
    fee_parameter_delete,
    fee_parameter_save,
    fee_settings_save,
    rule_fields,
    validation_rule_delete,
    validation_rule_save,
)
from .views import tabs as designer_tabs

RULES_URL = "admin:forms_catalog_formversion_designer_rules"
FEES_URL = "admin:forms_catalog_formversion_designer_fees"
EXAMPLE_MUNICIPALITY = "Musterstadt"


def _editor(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.has_perm(EDITOR_PERMISSION)


def _version(request: HttpRequest, pk: int) -> FormVersion:
    if not _editor(request):
        raise PermissionDenied
    return get_object_or_404(FormVersion.objects.select_related("service"), pk=pk)


def _url(name: str, pk: int, **query: str) -> str:
    query = {k: v for k, v in query.items() if v}
    return reverse(name, args=[pk]) + (f"?{urlencode(query)}" if query else "")


def _definition(version: FormVersion) -> dict[str, Any]:
    return version.definition if isinstance(version.definition, dict) else {}


def _not_editable_message(version: FormVersion) -> str:
    return gettext(
        "Diese Version ist %(status)s und kann nicht geändert werden. Nur Entwürfe lassen "
        "sich bearbeiten; legen Sie dafür einen neuen Entwurf an."
    ) % {"status": version.get_status_display()}


def _tabs(version: FormVersion, active: str, element: str = "") -> list[dict[str, Any]]:
    """The designer's tab navigation, the same on every designer page (views.tabs)."""
    return designer_tabs(version, active, element or None)


def _base_context(
    model_admin: Any, request: HttpRequest, version: FormVersion, title: str, active: str
) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "version": version,
        "is_draft": version.status == FormVersion.Status.DRAFT,
        "not_editable": _not_editable_message(version),
        "tabs": _tabs(version, active, request.GET.get("element", "")[:300]),
        "title": title,
    }


def _apply_row_button(action: str, prefix: str, rows: list[Row]) -> bool:
    """Handle "add/remove row" and "refresh" buttons; True when the page is shown again."""
    if action == f"{prefix}-add":
        rows.append(Row())
        return True
    if action.startswith(f"{prefix}-remove-"):
        try:
            index = int(action.rsplit("-", 1)[1])
        except ValueError:
            return True
        if 0 <= index < len(rows):
            del rows[index]
        return True
    return action == f"{prefix}-refresh"


def _picker_errors(picker: ConditionPicker, exc: RowError) -> None:
    picker.add_error(exc.index, exc.key, exc.message)


# --- Conditions and validations ------------------------------------------------------
def _rule_container(definition: dict[str, Any], element: Element) -> Element:
    """Where the validations shown with `element` live: its repeatable group, else its step."""
    steps = definition.get("steps", [])
    step = steps[element.step_index]
    if element.repeatable_group:
        return element
    if element.sub_index is not None:
        group_el = locate(
            definition, element_path(step["id"], step["fields"][element.item_index]["id"])
        )
        if group_el is not None and group_el.repeatable_group:
            return group_el
    return locate(definition, element_path(step["id"]))  # type: ignore[return-value]


def _rule_rows(definition: dict[str, Any], container: Element, pk: int, element: str) -> list:
    labels = labels_of(definition)
    listed = []
    for rule in container.raw.get("rules", []):
        if not isinstance(rule, dict):
            continue
        compare, condition = split_assertion(rule.get("assert"))
        text = describe(compare, labels)
        if condition is not None:
            text += " — " + gettext("nur wenn %(c)s") % {"c": describe(condition, labels)}
        listed.append(
            {
                "id": rule.get("id", ""),
                "text": text,
                "message": text_of(rule.get("message")),
                "edit_url": _url(RULES_URL, pk, element=element, regel=str(rule.get("id", ""))),
            }
        )
    return listed


def _rule_initial(rule: dict[str, Any], comparable: list) -> tuple[dict, str, list[Row], bool]:
    """(form initial, combine, rows, exact) of a stored rule; exact False: advanced parts."""
    compare, condition = split_assertion(rule.get("assert"))
    comparison = comparison_from(compare, comparable)
    parsed = expression_to_rows(condition, comparable)
    initial = {
        "rule_id": rule.get("id", ""),
        "message_de": (rule.get("message") or {}).get("de", ""),
        "message_en": (rule.get("message") or {}).get("en", ""),
        "show_at": list(rule.get("fields", [])),
    }
    if comparison is not None:
        initial.update(
            left=comparison.left,
            op=comparison.op,
            right_kind=comparison.right_kind,
            right_field=comparison.right_field,
            right_value=comparison.right_value,
        )
    combine, rows = parsed if parsed else ("and", [])
    return initial, combine, rows, comparison is not None and parsed is not None


def rules_view(model_admin: Any, request: HttpRequest, pk: int) -> HttpResponse:
    """Conditions ("Anzeigen, wenn …") of the element `?element=` and the validations of
    its step (or repeatable group)."""
    version = _version(request, pk)
    definition = _definition(version)
    raw_path = request.GET.get("element", "")
    element = locate(definition, raw_path) if raw_path else None
    context = _base_context(
        model_admin,
        request,
        version,
        gettext("Bedingungen und Prüfregeln: %(v)s") % {"v": version},
        "rules",
    )
    context["tree"] = element_tree(definition)
    context["element"] = element
    status = 200
    if raw_path and element is None:
        context["notice"] = gettext(
            "Dieses Element gibt es in diesem Entwurf nicht. Bitte wählen Sie es aus der Liste."
        )
        status = 404
    if element is None:
        return TemplateResponse(
            request, "admin/forms_catalog/designer/rules.html", context, status=status
        )

    here = _url(RULES_URL, pk, element=element.path)
    cond_fields = fields_before(definition, element)
    container = _rule_container(definition, element)
    comparable, shown_at = rule_fields(definition, container)
    labels = labels_of(definition)
    stored = element.raw.get("visible_if")
    parsed = expression_to_rows(stored, cond_fields)
    replace = request.GET.get("ersetzen") == "1" or request.POST.get("cond-replace") == "1"
    combine, rows = parsed if parsed else ("and", [])
    rule_param = request.GET.get("regel", "")[:63]
    editing = next(
        (
            r
            for r in container.raw.get("rules", [])
            if isinstance(r, dict) and r.get("id") == rule_param
        ),
        None,
    )
    rule_initial, when_combine, when_rows, exact = (
        _rule_initial(editing, comparable) if editing else ({}, "and", [], True)
    )
    rule_form = ValidationRuleForm(
        initial=rule_initial, fields=comparable, shown_at=shown_at, prefix="rule"
    )
    if rule_param and editing is None:
        context["notice"] = gettext("Diese Prüfregel gibt es nicht (mehr).")
    context["rule_advanced"] = bool(editing) and not exact

    if request.method == "POST" and version.status != FormVersion.Status.DRAFT:
        messages.error(request, _not_editable_message(version))
        return redirect(here)
    if request.method == "POST":
        action = request.POST.get("action", "")[:40]
        if action.startswith("cond-"):
            rows = rows_from_post(request.POST, "cond")
            combine = combine_from_post(request.POST, "cond")
            picker = ConditionPicker.build(
                prefix="cond", fields=cond_fields, combine=combine, rows=rows
            )
            if not _apply_row_button(action, "cond", rows):
                try:
                    if action == "cond-delete":
                        rows = []
                    condition_set(
                        version=version,
                        user=request.user,
                        element_path=element.path,
                        combine=combine,
                        rows=rows,
                    )
                except RowError as exc:
                    _picker_errors(picker, exc)
                except FormVersionError as exc:
                    picker.error = exc.message
                else:
                    messages.success(
                        request,
                        gettext("Die Bedingung wurde gespeichert.")
                        if rows
                        else gettext("Die Bedingung wurde entfernt."),
                    )
                    return redirect(here)
            else:
                picker = ConditionPicker.build(
                    prefix="cond", fields=cond_fields, combine=combine, rows=rows
                )
            replace = True
            context["cond"] = picker
        elif action.startswith("rule-"):
            when_rows = rows_from_post(request.POST, "when")
            when_combine = combine_from_post(request.POST, "when")
            rule_form = ValidationRuleForm(
                request.POST, fields=comparable, shown_at=shown_at, prefix="rule"
            )
            when = ConditionPicker.build(
                prefix="when", fields=comparable, combine=when_combine, rows=when_rows
            )
            context["when"] = when
            if action == "rule-delete":
                try:
                    validation_rule_delete(
                        version=version,
                        user=request.user,
                        container_path=container.path,
                        rule_id=request.POST.get("delete_rule", "")[:63],
                    )
                except FormVersionError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(request, gettext("Die Prüfregel wurde gelöscht."))
                return redirect(here)
            if action == "rule-refresh" or _apply_row_button(action, "when", when_rows):
                context["when"] = ConditionPicker.build(
                    prefix="when", fields=comparable, combine=when_combine, rows=when_rows
                )
            elif rule_form.is_valid():
                try:
                    rule_id = validation_rule_save(
                        version=version,
                        user=request.user,
                        container_path=container.path,
                        rule_id=rule_form.cleaned_data["rule_id"] or None,
                        comparison=rule_form.comparison(),
                        combine=when_combine,
                        rows=when_rows,
                        message_de=rule_form.cleaned_data["message_de"],
                        message_en=rule_form.cleaned_data["message_en"],
                        show_at=rule_form.cleaned_data["show_at"],
                    )
                except RowError as exc:
                    if exc.key in rule_form.fields:
                        rule_form.add_error(exc.key, exc.message)
                    else:
                        _picker_errors(when, exc)
                except FormVersionError as exc:
                    rule_form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        gettext("Die Prüfregel „%(id)s“ wurde gespeichert.") % {"id": rule_id},
                    )
                    return redirect(here)
        else:
            messages.error(request, gettext("Unbekannte Aktion."))
            return redirect(here)
        status = 200

    if "cond" not in context:
        context["cond"] = ConditionPicker.build(
            prefix="cond",
            fields=cond_fields,
            combine=combine,
            rows=rows or ([Row()] if cond_fields else []),
        )
    if "when" not in context:
        context["when"] = ConditionPicker.build(
            prefix="when", fields=comparable, combine=when_combine, rows=when_rows
        )
    context.update(
        {
            "here": here,
            "element_label": labels.get(element.raw.get("id"), "")
            or text_of(element.raw.get("title"))
            or element.raw.get("id", ""),
            "advanced": describe(stored, labels) if stored is not None and parsed is None else "",
            "show_picker": parsed is not None or replace,
            "has_condition": stored is not None,
            "replace_url": _url(RULES_URL, pk, element=element.path, ersetzen="1"),
            "container": container,
            "container_label": text_of(container.raw.get("title"))
            or text_of(container.raw.get("label")),
            "rules": _rule_rows(definition, container, pk, element.path),
            "rule_form": rule_form,
            "editing_rule": editing,
            "new_rule_url": here,
            "comparison_labels": COMPARISON_LABELS,
        }
    )
    return TemplateResponse(
        request, "admin/forms_catalog/designer/rules.html", context, status=status
    )


# --- Fees -------------------------------------------------------------------------------
def _amount_text(line: dict[str, Any], labels: dict[str, str]) -> str:
    shown = amount_from(line.get("amount"))
    if shown is None:
        return gettext("Fortgeschrittener Betrag: %(d)s") % {
            "d": describe(line.get("amount"), labels)
        }
    kind, amount, param = shown
    if kind == "fixed":
        return f"{amount} €"
    return gettext("Betrag „%(p)s“") % {"p": labels.get(param, param)}


def _line_preview(line: dict[str, Any], params: dict[str, dict[str, Any]]) -> str:
    """What one line costs in the example: a fixed amount, a parameter's (example) amount,
    or why it depends on the application or the municipality."""
    if line.get("for_each") or "when" in line:
        return gettext("hängt von den Angaben im Antrag ab")
    shown = amount_from(line.get("amount"))
    if shown is None:
        return gettext("hängt von den Angaben im Antrag ab")
    kind, amount, param = shown
    if kind == "fixed":
        return f"{amount} €"
    declared = params.get(param) or {}
    if declared.get("default") is None:
        return gettext("legt die Gemeinde fest")
    text = f"{format_amount(declared['default'])} €"
    if declared.get("local"):
        return gettext("z. B. %(amount)s (legt die Gemeinde fest)") % {"amount": text}
    return text


def _preview(version: FormVersion, definition: dict[str, Any]) -> dict[str, Any]:
    """The citizen's statement for an example municipality, or why it cannot be shown."""
    if definition_errors(definition, render=False):
        return {
            "problem": gettext(
                "Die Vorschau erscheint, sobald die Definition fehlerfrei ist "
                "(siehe „Prüfen“ im Designer)."
            )
        }
    statement = fee_statement(
        version=version, configured={}, municipality=EXAMPLE_MUNICIPALITY, language="de"
    )
    example = calculate_fee(version=version, answers={}, parameters={}, examples=True)
    params = {p["id"]: p for p in definition.get("parameters", [])}
    return {
        "statement": statement,
        "example_lines": [
            (text_of(line.get("label")), _line_preview(line, params))
            for line in (definition.get("fees") or {}).get("lines", [])
        ],
        "example_total": format_money(example.amount) if example else "",
    }


def fees_view(model_admin: Any, request: HttpRequest, pk: int) -> HttpResponse:
    """Fee settings, parameters (amounts) and fee lines of a draft, with a preview."""
    version = _version(request, pk)
    definition = _definition(version)
    fees = definition.get("fees") if isinstance(definition.get("fees"), dict) else {}
    labels = labels_of(definition)
    params = [p for p in definition.get("parameters", []) if isinstance(p, dict)]
    lines = [li for li in fees.get("lines", []) if isinstance(li, dict)]
    groups = repeatable_groups(definition)
    param_choices = [(p.get("id", ""), text_of(p.get("label")) or p.get("id", "")) for p in params]
    here = reverse(FEES_URL, args=[pk])
    context = _base_context(
        model_admin, request, version, gettext("Gebühren: %(v)s") % {"v": version}, "fees"
    )

    edit_param = next((p for p in params if p.get("id") == request.GET.get("betrag")), None)
    edit_line = next((li for li in lines if li.get("id") == request.GET.get("position")), None)
    settings_form = FeeSettingsForm(
        initial={
            "free": bool(fees.get("free")),
            "kind": fees.get("kind", ""),
            "period": fees.get("period", ""),
            "payment": fees.get("payment", ""),
            "note_de": (fees.get("note") or {}).get("de", ""),
            "note_en": (fees.get("note") or {}).get("en", ""),
        },
        prefix="settings",
    )
    param_form = ParameterForm(
        initial={
            "param_id": edit_param.get("id"),
            "label_de": text_of(edit_param.get("label")),
            "label_en": (edit_param.get("label") or {}).get("en", ""),
            "money": edit_param.get("type", "money"),
            "default": format_amount(edit_param["default"])
            if edit_param.get("default") is not None
            else "",
            "local": bool(edit_param.get("local")),
        }
        if edit_param
        else None,
        prefix="param",
    )
    line_initial: dict[str, Any] = {}
    line_combine, line_rows = "and", []
    line_advanced = ""
    if edit_line:
        shown = amount_from(edit_line.get("amount"))
        line_initial = {
            "line_id": edit_line.get("id"),
            "label_de": (edit_line.get("label") or {}).get("de", ""),
            "label_en": (edit_line.get("label") or {}).get("en", ""),
            "for_each": edit_line.get("for_each", ""),
        }
        if shown:
            line_initial.update(amount_kind=shown[0], amount=shown[1], param=shown[2])
        else:
            line_advanced = _amount_text(edit_line, labels)
        condition_fields = all_top_level_fields(definition) + group_item_fields(
            definition, edit_line.get("for_each", "")
        )
        parsed = expression_to_rows(edit_line.get("when"), condition_fields)
        if parsed is None:
            line_advanced = (line_advanced + " " if line_advanced else "") + gettext(
                "Fortgeschrittene Bedingung: %(d)s"
            ) % {"d": describe(edit_line.get("when"), labels)}
        else:
            line_combine, line_rows = parsed
    line_form = FeeLineForm(
        initial=line_initial or None, params=param_choices, groups=groups, prefix="line"
    )
    for_each = line_initial.get("for_each", "")

    if request.method == "POST" and version.status != FormVersion.Status.DRAFT:
        messages.error(request, _not_editable_message(version))
        return redirect(here)
    if request.method == "POST":
        action = request.POST.get("action", "")[:40]
        try:
            if action == "settings-save":
                settings_form = FeeSettingsForm(request.POST, prefix="settings")
                if settings_form.is_valid():
                    data = settings_form.cleaned_data
                    fee_settings_save(
                        version=version,
                        user=request.user,
                        free=data["free"],
                        kind=data["kind"],
                        period=data["period"],
                        payment=data["payment"],
                        note_de=data["note_de"],
                        note_en=data["note_en"],
                    )
                    messages.success(
                        request, gettext("Die Angaben zur Zahlung wurden gespeichert.")
                    )
                    return redirect(here)
            elif action == "param-save":
                param_form = ParameterForm(request.POST, prefix="param")
                if param_form.is_valid():
                    data = param_form.cleaned_data
                    default = parse_amount(data["default"], key="default", allow_empty=True)
                    fee_parameter_save(
                        version=version,
                        user=request.user,
                        param_id=data["param_id"] or None,
                        label_de=data["label_de"],
                        label_en=data["label_en"],
                        money=data["money"] == "money",
                        default=default,
                        local=data["local"],
                    )
                    messages.success(request, gettext("Der Betrag wurde gespeichert."))
                    return redirect(here)
            elif action == "param-delete":
                fee_parameter_delete(
                    version=version,
                    user=request.user,
                    param_id=request.POST.get("delete_id", "")[:63],
                )
                messages.success(request, gettext("Der Betrag wurde gelöscht."))
                return redirect(here)
            elif action == "line-delete":
                fee_line_delete(
                    version=version,
                    user=request.user,
                    line_id=request.POST.get("delete_id", "")[:63],
                )
                messages.success(request, gettext("Die Gebührenposition wurde gelöscht."))
                return redirect(here)
            elif action.startswith("line-") or action.startswith("when-"):
                line_form = FeeLineForm(
                    request.POST, params=param_choices, groups=groups, prefix="line"
                )
                line_rows = rows_from_post(request.POST, "when")
                line_combine = combine_from_post(request.POST, "when")
                for_each = request.POST.get("line-for_each", "")[:63]
                if not _apply_row_button(action, "when", line_rows) and line_form.is_valid():
                    data = line_form.cleaned_data
                    line_id = fee_line_save(
                        version=version,
                        user=request.user,
                        line_id=data["line_id"] or None,
                        label_de=data["label_de"],
                        label_en=data["label_en"],
                        amount_kind=data["amount_kind"],
                        amount=data["amount"],
                        param=data["param"],
                        for_each=data["for_each"],
                        combine=line_combine,
                        rows=line_rows,
                    )
                    messages.success(
                        request,
                        gettext("Die Gebührenposition „%(id)s“ wurde gespeichert.")
                        % {"id": line_id},
                    )
                    return redirect(here)
            else:
                messages.error(request, gettext("Unbekannte Aktion."))
                return redirect(here)
        except RowError as exc:
            form = {"settings": settings_form, "param": param_form}.get(
                action.split("-")[0], line_form
            )
            if exc.key in form.fields:
                form.add_error(exc.key, exc.message)
            elif exc.index is not None:
                context["when_error"] = (exc.index, exc.key, exc.message)
            else:
                form.add_error(None, exc.message)
        except FormVersionError as exc:
            if action.startswith(("param-delete", "line-delete")):
                messages.error(request, exc.message)
                return redirect(here)
            form = {"settings": settings_form, "param": param_form}.get(
                action.split("-")[0], line_form
            )
            form.add_error(None, exc.message)

    condition_fields = all_top_level_fields(definition) + group_item_fields(definition, for_each)
    when = ConditionPicker.build(
        prefix="when", fields=condition_fields, combine=line_combine, rows=line_rows
    )
    if "when_error" in context:
        index, key, message = context.pop("when_error")
        when.add_error(index, key, message)
    context.update(
        {
            "settings_form": settings_form,
            "param_form": param_form,
            "line_form": line_form,
            "when": when,
            "line_advanced": line_advanced,
            "editing_param": edit_param,
            "editing_line": edit_line,
            "params": [
                {
                    "id": p.get("id", ""),
                    "label": text_of(p.get("label")),
                    "amount": format_amount(p["default"]) + " €"
                    if p.get("default") is not None
                    else "—",
                    "local": bool(p.get("local")),
                    "edit_url": _url(FEES_URL, pk, betrag=str(p.get("id", ""))),
                }
                for p in params
            ],
            "lines": [
                {
                    "id": li.get("id", ""),
                    "label": text_of(li.get("label")),
                    "amount": _amount_text(li, labels),
                    "for_each": dict(groups).get(li.get("for_each", ""), ""),
                    "when": describe(li["when"], labels) if "when" in li else "",
                    "edit_url": _url(FEES_URL, pk, position=str(li.get("id", ""))),
                }
                for li in lines
            ],
            "preview": _preview(version, definition),
            "here": here,
        }
    )
    return TemplateResponse(request, "admin/forms_catalog/designer/fees.html", context)
