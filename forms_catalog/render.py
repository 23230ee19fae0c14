"""The render tree of a step form: what templates/forms_catalog/*.html walk.

Built by one visibility walk (`visibility.walk_step`) in the form's language;
each field type fills in its own widget attributes (`FieldType.decorate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext

from .client_conditions import client_condition
from .definition import FieldSpec, GroupSpec, tr
from .expressions import Scope, references
from .fields import field_type
from .visibility import StepVisitor, is_visible

if TYPE_CHECKING:
    from .step_form import StepForm


class _DescribedNode:
    """Ids of a rendered field's or group's hint and error, for aria-describedby."""

    id: str

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"


@dataclass
class FieldNode(_DescribedNode):
    spec: FieldSpec
    name: str  # form field name without prefix
    html_name: str
    id: str
    label: str
    hint: str
    errors: list[str]
    required: bool
    widget: str
    value: Any = ""
    parts: dict[str, str] = field(default_factory=dict)
    options: list[dict[str, Any]] = field(default_factory=list)
    input_type: str = "text"
    autocomplete: str = ""
    inputmode: str = ""
    maxlength: int | None = None
    existing_files: list[dict[str, Any]] = field(default_factory=list)
    accept: str = ""
    limits: str = ""  # a file field's formats and size, announced before upload
    max_bytes: int = 0
    size_message: str = ""  # the size refusal with {name}/{size} for static/portal/upload-limits.js
    multiple: bool = False
    conditional: bool = False
    condition: str = ""  # JSON for static/portal/conditions.js (client_conditions.py)
    conditional_hint: str = ""
    unit: str = ""
    kind: str = "field"
    saved: Any = None  # the stored answer (file fields list the files kept so far)

    @property
    def describedby(self) -> str:
        ids = []
        if self.hint:
            ids.append(self.hint_id)
        if self.limits:
            ids.append(self.limits_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def limits_id(self) -> str:
        return f"{self.id}-limits"

    @property
    def anchor(self) -> str:
        if self.widget == "date":
            return f"{self.id}_day"
        if self.widget in {"radios", "checkboxes"} and self.options:
            return self.options[0]["id"]
        return self.id


@dataclass
class ItemNode:
    index: int
    id: str
    legend: str
    children: list[FieldNode]
    remove_name: str
    can_remove: bool
    remove_label: str = ""


@dataclass
class GroupNode(_DescribedNode):
    spec: GroupSpec
    id: str
    legend: str
    hint: str
    repeatable: bool
    errors: list[str]
    children: list[FieldNode] = field(default_factory=list)
    items: list[ItemNode] = field(default_factory=list)
    count_name: str = ""
    count: int = 0
    add_name: str = ""
    can_add: bool = False
    add_label: str = ""
    conditional: bool = False
    condition: str = ""
    conditional_hint: str = ""
    kind: str = "group"

    @property
    def describedby(self) -> str:
        ids = [self.hint_id] if self.hint else []
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)


def ui_texts() -> dict[str, str]:
    """Fixed interface texts of the field templates, in the active language."""
    return {
        # The same word in both languages, so it is no entry of the catalogue.
        "optional": "optional",
        "day": gettext("Tag"),
        "month": gettext("Monat"),
        "year": gettext("Jahr"),
        "choose": gettext("Bitte auswählen"),
        "uploaded": gettext("Bereits hochgeladen"),
        "delete_file": gettext("Datei entfernen"),
    }


def conditional_hint(form: StepForm, expr: Any) -> str:
    """The "only fill in if …" hint of a same-page conditional field or group; it names
    the question on this page it depends on when there is exactly one."""
    own = {f.id: f for f in form.step.top_fields()}
    for item in form.step.items:
        if isinstance(item, GroupSpec) and item.repeatable:
            own.update((f.id, f) for f in item.fields)
    refs = [ref for ref in own if ref in references(expr)]
    if len(refs) != 1:
        return gettext("Nur ausfüllen, wenn es nach Ihren Angaben auf dieser Seite zutrifft.")
    return gettext("Nur ausfüllen, wenn es nach Ihrer Antwort bei „%(label)s“ zutrifft.") % {
        "label": tr(own[refs[0]].label, form.language)
    }


class NodeBuilder(StepVisitor):
    """Builds the render tree of a (bound or unbound) step form."""

    def __init__(self, form: StepForm) -> None:
        self.form = form
        self.nodes: list[FieldNode | GroupNode] = []
        self.group: GroupNode | None = None
        self.children: list[FieldNode] = self.nodes  # type: ignore[assignment]

    def shown(self, expr: Any, scope: Scope) -> bool:
        if expr is None:
            return True
        if self.form.depends_on_step(expr) or (scope.item is not None and scope.item == {}):
            # Depends on answers on this very page: without JavaScript the page
            # cannot react, so the field is shown and ignored if it stays hidden.
            return True
        return is_visible(expr, scope)

    def entries(self, group: GroupSpec) -> list[tuple[int, Any]]:
        return [(i, None) for i in range(self.form.item_counts.get(group.id, 0))]

    def group_start(self, group: GroupSpec) -> None:
        form, language = self.form, self.form.language
        node = GroupNode(
            spec=group,
            id=form.auto_id_for(group.id),
            legend=tr(group.label, language),
            hint=tr(group.help, language),
            repeatable=group.repeatable,
            errors=form.group_errors.get(group.id, []),
            conditional=form.depends_on_step(group.visible_if),
        )
        if node.conditional:
            node.condition = client_condition(form=form, expr=group.visible_if, spec=group)
            node.conditional_hint = conditional_hint(form, group.visible_if)
        if group.repeatable:
            count = form.item_counts.get(group.id, 0)
            node.count_name = form.add_prefix(f"{group.id}-count")
            node.count = count
            node.add_name = form.add_prefix(f"{group.id}-add")
            node.can_add = count < group.max_items
            item_label = tr(group.raw.get("item_label") or group.label, language)
            node.add_label = gettext("Weiteren Eintrag hinzufügen: %(label)s") % {
                "label": item_label
            }
        self.nodes.append(node)
        self.group = node
        self.children = node.children

    def item_start(self, group: GroupSpec, index: int) -> None:
        assert self.group is not None
        legend = group.item_label(index, self.form.language)
        item = ItemNode(
            index=index,
            id=f"{self.group.id}-{index}",
            legend=legend,
            children=[],
            remove_name=self.form.add_prefix(f"{group.id}-remove"),
            can_remove=self.group.count > group.min_items,
            remove_label=gettext("%(label)s entfernen") % {"label": legend},
        )
        self.group.items.append(item)
        self.children = item.children

    def group_end(self, group: GroupSpec, count: int) -> None:
        self.group = None
        self.children = self.nodes  # type: ignore[assignment]

    def field(self, spec: FieldSpec, name: str, scope: Scope, source: Any) -> None:
        self.children.append(self.field_node(spec, name))

    def field_node(self, spec: FieldSpec, name: str) -> FieldNode:
        form, language = self.form, self.form.language
        html_name = form.add_prefix(name)
        kind = field_type(spec.type)
        node = FieldNode(
            spec=spec,
            name=name,
            html_name=html_name,
            id=f"id_{html_name}",
            label=tr(spec.label, language),
            hint=tr(spec.help, language),
            errors=list(form.errors.get(name, [])) if form.is_bound else [],
            required=spec.required,
            widget="input",
            autocomplete=spec.raw.get("autocomplete", ""),
            conditional=form.depends_on_step(spec.visible_if) if spec.visible_if else False,
            unit=tr(spec.raw.get("unit"), language),
            saved=form.saved_answers.get(spec.id) if not spec.group_id else None,
        )
        if form.is_bound:
            raw = form.fields[name].widget.value_from_datadict(form.data, form.files, html_name)
        else:
            saved = form.saved_value(name, spec)
            raw = None if saved is None else kind.raw_from_json(spec, saved)
        if node.conditional:
            node.condition = client_condition(form=form, expr=spec.visible_if, spec=spec)
            node.conditional_hint = conditional_hint(form, spec.visible_if)
        kind.decorate(node, spec, raw, language)
        return node
