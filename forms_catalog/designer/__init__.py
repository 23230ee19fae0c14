"""The form designer: build a draft's definition as steps, groups and fields, no JSON.

- `paths`: element paths (`steps/<step id>/fields/<field id>`, inside a group
  `steps/<s>/fields/<group id>/fields/<field id>`) and the way from a
  definition error's JSON path to the element it concerns;
- `edits`: pure functions on a definition dict (add, move, duplicate, delete,
  update settings, new ids from labels); they never save anything;
- `settings_form`: the side panel's Django form, built from the field type
  registry (`FieldType.designer_settings`);
- `problems`: the definition's errors in German, by step and field label;
- `views`: the admin pages (structure, preview, check), wired in
  `FormVersionAdmin.get_urls`; every save goes through
  `forms_catalog.services.form_version_update_draft` (drafts only, editors only).

The conditions, validations and fees pickers (`rule_*` modules) link here
with the same element paths.
"""
