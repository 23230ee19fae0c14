"""The form wizard: one step per page, saved into the server-side draft after every step.

The draft row is the wizard's storage, so a citizen can resume on another
device. Valid steps are kept as answers (the agreed JSON format) in
`Draft.data["answers"]`; unfinished input of a step is kept as its raw POST
data (`drafts.draft_keep_unfinished_input`), so nothing typed is lost. Step
list and conditions come from the compiled form (`FormFlow`), navigation from
`DraftProgress`. Why this is not django-formtools: see the README's
dependency table.

The URL step is the only authority on which step is posted: a step is shown or
accepted only when every earlier visible step has been completed and its stored
answers still validate, so steps cannot be skipped by crafting URLs or POST data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import View

from forms_catalog.fields.file import file_limits, format_size
from forms_catalog.selectors import fee_statement, summarize
from forms_catalog.validators import without_nul
from municipalities.selectors import NoResponsibleOffice, fee_parameters, responsible_office
from submissions.models import Draft
from submissions.ratelimit import rate_limit_hit, rate_limit_hit_key
from submissions.services import DraftAlreadySubmitted, submission_submit

from ..drafts import (
    draft_field_errors_record,
    draft_find_by_token,
    draft_for_session,
    draft_grant_session,
    draft_issue_resume_link,
    draft_keep_unfinished_input,
    draft_language_get,
    draft_language_remember,
    draft_save_data,
    draft_step_accept,
    draft_step_position,
    draft_step_reached,
    draft_step_reopen,
    draft_unfinished_input,
)
from ..formflow import FormFlow
from ..forms import DeclarationForm, SaveForLaterForm
from ..save_later import draft_queue_resume_mail
from ..uploads import (
    AttachmentRejected,
    attachment_answer,
    attachment_create,
    attachment_prune,
    referenced_attachment_ids,
)
from .common import (
    allow_methods,
    error_page,
    language,
    localized,
    method_not_allowed,
    session_warning_seconds,
    too_many_requests,
)
from .status import grant_submission, hand_over_access_code

# Bounds for what is kept of a step's raw POST data, so a draft row stays small
# whatever a client sends (the fields' own limits apply on validation).
MAX_KEYS_PER_STEP = 500
MAX_VALUES_PER_KEY = 100
MAX_VALUE_CHARS = 20_000
RETURN_TO_CHECK = "zurueck"


def flow_for(draft: Draft) -> FormFlow:
    return FormFlow(draft.form_version, language())


def draft_missing(request: HttpRequest, draft_id: Any) -> HttpResponse:
    """Unknown, expired, submitted or someone else's draft: one clear page, nothing revealed."""
    reference = request.session.get(f"portal_draft_submitted_{draft_id}")
    if reference:
        return redirect("citizen:confirmation", reference=reference)
    return error_page(
        request,
        status=404,
        title=_("Antrag nicht gefunden"),
        message=_(
            "Diesen Antrag gibt es nicht, er ist abgelaufen oder er wurde in einem anderen "
            "Browser begonnen. Wenn Sie ihn gespeichert haben, öffnen Sie bitte den Link zum "
            "Fortsetzen."
        ),
    )


def bounded_step_data(data: Any, prefix: str) -> dict[str, list[str]]:
    """The part of a POST that belongs to the step form, bounded in size and storable.

    PostgreSQL's jsonb cannot hold NUL: a name with NUL (never one of our
    fields) is left out and NUL is taken out of values. The page that refused
    the input still shows the field's message; this is only what is kept.
    """
    result: dict[str, list[str]] = {}
    for key in data:
        if len(result) >= MAX_KEYS_PER_STEP:
            break
        if not str(key).startswith(f"{prefix}-") or "\x00" in str(key):
            continue
        values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
        if not isinstance(values, list):
            values = [values]
        result[str(key)[:200]] = [
            without_nul(str(v))[:MAX_VALUE_CHARS] for v in values[:MAX_VALUES_PER_KEY]
        ]
    return result


class DraftProgress:
    """Which steps are visible and which are done, for one draft."""

    def __init__(self, draft: Draft, flow: FormFlow):
        answers = draft.data.get("answers")
        self.answers: dict[str, Any] = answers if isinstance(answers, dict) else {}
        self.done: list[str] = [s for s in draft.data.get("done", []) if isinstance(s, str)]
        self.visible: list[str] = flow.visible_step_ids(self.answers)

    def first_incomplete(self, before: str | None = None) -> str | None:
        for step in self.visible:
            if step == before:
                return None
            if step not in self.done:
                return step
        return None

    def next_after(self, step: str) -> str | None:
        if step not in self.visible:
            return None
        index = self.visible.index(step) + 1
        return self.visible[index] if index < len(self.visible) else None

    def previous(self, step: str) -> str | None:
        if step not in self.visible:
            return None
        index = self.visible.index(step) - 1
        return self.visible[index] if index >= 0 else None


def upload_store(draft: Draft, request: HttpRequest, form, releasing: Iterable[str] = ()):
    """The `store_upload(field_id, upload, content_type)` callback of the catalogue forms.

    Each file is stored with the limits of its own field in `form` (the limits
    the page announced). Every stored file counts against the client's
    `upload` rate limit; the draft's files in `releasing` (about to be
    replaced) do not count against its byte quota.
    """
    releasing = frozenset(releasing)

    def store(field_id: str, upload, content_type: str) -> dict:
        if rate_limit_hit(request=request, scope="upload"):
            raise AttachmentRejected(
                _(
                    "Sie haben in kurzer Zeit sehr viele Dateien hochgeladen. Bitte warten Sie "
                    "einige Minuten und laden Sie die Datei dann erneut hoch."
                ),
                field_id,
            )
        spec = getattr(form.fields.get(field_id), "spec", None)
        attachment = attachment_create(
            draft=draft,
            field_path=field_id,
            upload=upload,
            limits=file_limits(spec) if spec is not None else None,
            releasing=releasing,
        )
        return attachment_answer(attachment)

    return store


@method_decorator(never_cache, name="dispatch")
class DraftWizard(View):
    """One step of a draft: GET shows it, POST validates, stores and moves on."""

    template_name = "submissions/step.html"

    def dispatch(self, request, *args, **kwargs):
        draft = draft_for_session(request=request, draft_id=kwargs["draft_id"])
        if draft is None:
            return draft_missing(request, kwargs["draft_id"])
        self.draft = draft
        draft_language_remember(draft=draft, language=language())
        self.flow = flow_for(draft)
        self.progress = DraftProgress(draft, self.flow)
        return super().dispatch(request, *args, **kwargs)

    def http_method_not_allowed(self, request, *args, **kwargs):
        return method_not_allowed(request, ["GET", "HEAD", "POST"])

    def get_step_url(self, step: str) -> str:
        return reverse("citizen:step", kwargs={"draft_id": self.draft.id, "step": step})

    def get_form(self, *, step: str, data=None, files=None):
        """The step's form bound to `data`/`files`, knowing the answers so far; prefix = step id."""
        return self.flow.form_class(step)(
            data=data, files=files, prefix=step, **self.flow.form_kwargs(self.progress.answers)
        )

    def render(self, form, step: str) -> HttpResponse:
        return render(self.request, self.template_name, self.get_context_data(form, step))

    # --- requests ---------------------------------------------------------------
    def _guard(self, step: str | None) -> HttpResponse | None:
        """Redirect when the step is not visible or an earlier visible step is not done."""
        if step not in self.progress.visible:
            target = self.progress.first_incomplete() or self.progress.visible[0]
            return redirect(self.get_step_url(target))
        blocker = self.progress.first_incomplete(before=step)
        if blocker:
            return redirect(self.get_step_url(blocker))
        earlier = self.progress.visible[: self.progress.visible.index(step)]
        if earlier:
            # Done once is not enough: a later change elsewhere may have made an
            # earlier step invalid (cross-field rules), so check the stored answers
            # of the earlier steps (only those: this step is validated by its own
            # form, later ones by the check page), once per request.
            for problem_step, _field, _message in self.flow.problems(
                self.progress.answers, steps=earlier
            ):
                if problem_step in earlier:
                    draft_step_reopen(draft=self.draft, step=problem_step)
                    return redirect(self.get_step_url(problem_step))
        return None

    def get(self, request, *args, **kwargs):
        step = kwargs.get("step")
        if (response := self._guard(step)) is not None:
            return response
        partial = draft_unfinished_input(draft=self.draft, step=step)
        if step in self.draft.data.get("show_errors", []):
            # The check page found this stored step invalid: show why.
            data = partial or MultiValueDict(
                {
                    k: v if isinstance(v, list) else [v]
                    for k, v in self.flow.form_data(step, self.progress.answers, step).items()
                }
            )
            form = self.get_form(step=step, data=data)
            form.is_valid()
        elif partial is not None:
            # Unfinished input saved earlier: show what was typed, without errors yet.
            form = self.get_form(step=step, data=partial)
            form._errors = ErrorDict()
        else:
            form = self.get_form(step=step)
        return self.render(form, step)

    def post(self, request, *args, **kwargs):
        step = kwargs.get("step")
        if (response := self._guard(step)) is not None:
            return response
        form = self.get_form(step=step, data=request.POST, files=request.FILES)
        valid = form.is_valid()
        if "wizard_save" in request.POST:
            if form.upload_errors:
                # Say why a chosen file was not kept before the citizen leaves the page.
                return self._show_again(step, form, count=False)
            self._keep_unfinished(step, form)
            if form.upload_errors:  # refused by storage (quota, rate limit)
                return self.render(form, step)
            return redirect("citizen:save", draft_id=self.draft.id)
        if not valid:
            return self._show_again(step, form)
        try:
            releasing = self.flow.released_attachment_ids(form)
            answers = self.flow.merged_answers(
                form, upload_store(self.draft, self.request, form, releasing)
            )
        except AttachmentRejected as exc:
            form.upload_refused(exc.field_path or None, exc.message)
            # Files of this post stored before the refusal are in no answer yet: remove
            # them, so keeping the page's accepted files does not count them twice.
            attachment_prune(draft=self.draft, answers=self.draft.data.get("answers", {}))
            return self._show_again(step, form)
        draft_step_accept(draft=self.draft, step=step, answers=answers)
        if self.flow.step_receives_files(step):
            # A step without file fields neither stores nor releases a file, so
            # the answers refer to the same files as before: nothing to prune.
            attachment_prune(draft=self.draft, answers=answers)
        progress = DraftProgress(self.draft, self.flow)
        if request.POST.get(RETURN_TO_CHECK):
            target = progress.first_incomplete()
        else:
            target = progress.next_after(step) or progress.first_incomplete()
        # The page shown next (a step or the check page) counts as reached in the funnel.
        draft_step_reached(
            draft=self.draft, position=draft_step_position(draft=self.draft, step=target)
        )
        draft_save_data(draft=self.draft, data=self.draft.data, current_step=target or "")
        return redirect(self.get_step_url(target) if target else self._check_url())

    def _show_again(self, step: str, form, *, count: bool = True) -> HttpResponse:
        """The page once more, with what was typed, the files that passed, and every
        refusal at its own field (a refused file never vanishes without a word).

        Each refused field is counted for the funnel statistics, unless `count` is off
        (a "save and continue later" press is no attempt to finish the page)."""
        if self._keep_unfinished(step, form):
            # Files that passed their checks are kept: validate again against them,
            # so the page lists them and asks only for what is still wrong.
            general = list(form.non_field_errors())
            refused = {name: list(messages) for name, messages in form.upload_errors.items()}
            self.progress = DraftProgress(self.draft, self.flow)
            form = self.get_form(step=step, data=self.request.POST)
            form.is_valid()
            for message in general:
                if message not in form.non_field_errors():
                    form.add_error(None, message)
            form.show_refused_uploads(refused)
        if count:
            draft_field_errors_record(
                draft=self.draft, field_keys=self.flow.failed_field_keys(form, step)
            )
        return self.render(form, step)

    def _keep_unfinished(self, step: str, form) -> bool:
        """Store what was typed, and files that passed their checks, though the step is not done.

        Returns whether files were stored.
        """
        kept_files = False
        uploads = getattr(form, "uploads", {}) or {}
        answers = self.draft.data.setdefault("answers", {})
        for field_id, files in uploads.items():
            existing = answers.get(field_id)
            if field_id in form.fields and isinstance(existing, (list, type(None))):
                spec = getattr(form.fields[field_id], "spec", None)
                multiple = bool(spec and spec.raw.get("multiple"))
                # A single-file field keeps only the newest file: store no other, and do
                # not count the file it replaces against the quota.
                replaced = [] if multiple else referenced_attachment_ids(existing)
                store = upload_store(self.draft, self.request, form, replaced)
                try:
                    stored = [store(field_id, f, "") for f in (files if multiple else files[-1:])]
                except AttachmentRejected as exc:
                    form.upload_refused(field_id, exc.message)
                    continue
                answers[field_id] = [*(existing or []), *stored] if multiple else stored
                kept_files = True
        # A replaced file goes at once (row and stored object), not when the step is done;
        # so do files stored by a valid-looking post whose later file was refused.
        attachment_prune(draft=self.draft, answers=answers)
        draft_keep_unfinished_input(
            draft=self.draft, step=step, data=bounded_step_data(form.data, form.prefix or step)
        )
        draft_save_data(draft=self.draft, data=self.draft.data, current_step=step)
        return kept_files

    def _check_url(self) -> str:
        return reverse("citizen:check", kwargs={"draft_id": self.draft.id})

    def get_context_data(self, form, step: str) -> dict[str, Any]:
        previous = self.progress.previous(step)
        returning = bool(
            self.request.GET.get(RETURN_TO_CHECK) or self.request.POST.get(RETURN_TO_CHECK)
        )
        errors = bool(form.is_bound and not getattr(form, "pending_action", None) and form.errors)
        return {
            "form": form,
            "draft": self.draft,
            "gemeinde": self.draft.gemeinde,
            "service_name": self.draft.service.name(language()),
            "step_id": step,
            "step_title": self.flow.title(step),
            "step_intro": self.flow.intro(step),
            "step_number": self.progress.visible.index(step) + 1,
            "step_count": len(self.progress.visible),
            "previous_url": self._check_url()
            if returning
            else (self.get_step_url(previous) if previous else None),
            "returning": returning,
            "return_param": RETURN_TO_CHECK,
            "page_has_errors": errors,
            "session_warning_seconds": session_warning_seconds(),
            "max_request_bytes": settings.PORTAL_MAX_REQUEST_BYTES,
            "request_size_message": _(
                "Die gewählten Dateien sind zusammen %(size)s groß; auf einmal können höchstens "
                "%(limit)s gesendet werden. Bitte laden Sie sie nacheinander hoch: Angenommene "
                "Dateien bleiben gespeichert."
            )
            % {"size": "{size}", "limit": format_size(settings.PORTAL_MAX_REQUEST_BYTES)},
        }


step_view = DraftWizard.as_view()


@never_cache
@allow_methods("GET", "HEAD")
def draft_entry(request: HttpRequest, draft_id) -> HttpResponse:
    draft = draft_for_session(request=request, draft_id=draft_id)
    if draft is None:
        return draft_missing(request, draft_id)
    target = DraftProgress(draft, flow_for(draft)).first_incomplete()
    if target is None:
        return redirect("citizen:check", draft_id=draft.id)
    return redirect("citizen:step", draft_id=draft.id, step=target)


def first_problem_step(draft: Draft, flow: FormFlow) -> str | None:
    """The first visible step that is not done or whose stored answers no longer validate.

    The check page and submitting trust nothing stored: every step is checked again.
    """
    progress = DraftProgress(draft, flow)
    if (step := progress.first_incomplete()) is not None:
        return step
    problems = flow.problems(progress.answers)
    return problems[0][0] if problems else None


@never_cache
@allow_methods("GET", "HEAD", "POST")
def check_answers(request: HttpRequest, draft_id) -> HttpResponse:
    draft = draft_for_session(request=request, draft_id=draft_id)
    if draft is None:
        return draft_missing(request, draft_id)
    flow = flow_for(draft)
    failing = first_problem_step(draft, flow)
    if failing:
        if failing in draft.data.get("done", []):
            draft_step_reopen(draft=draft, step=failing)
        return redirect("citizen:step", draft_id=draft.id, step=failing)
    answers = DraftProgress(draft, flow).answers
    lang = language()
    declaration = DeclarationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if rate_limit_hit(request=request, scope="submit"):
            return too_many_requests(request)
        if declaration.is_valid():
            return _submit(request, draft, answers, lang)
    try:
        office = responsible_office(service=draft.service, gemeinde=draft.gemeinde)
    except NoResponsibleOffice:
        office = None
    # The same wording as the service page, plus the calculation from real
    # values only; fee lines are the definition's texts in the citizen's language.
    fees = fee_statement(
        version=draft.form_version,
        configured=fee_parameters(service=draft.service, gemeinde=draft.gemeinde),
        municipality=draft.gemeinde.display_name,
        answers=answers,
        language=lang,
    )
    return render(
        request,
        "submissions/check.html",
        {
            "draft": draft,
            "gemeinde": draft.gemeinde,
            "service_name": draft.service.name(lang),
            "sections": summarize(version=draft.form_version, answers=answers, language=lang),
            "fees": fees,
            "fee_note": localized(draft.service, "fee_note", lang),
            "office": office,
            "form": declaration,
            "forms_with_errors": [declaration] if declaration.errors else [],
            "page_has_errors": bool(declaration.errors),
            "return_param": RETURN_TO_CHECK,
            "session_warning_seconds": session_warning_seconds(),
        },
    )


def _submit(request: HttpRequest, draft: Draft, answers: dict, lang: str) -> HttpResponse:
    try:
        # submission_submit locks the draft: a double click files once.
        submission, secret = submission_submit(draft=draft, answers=answers, language=lang)
    except DraftAlreadySubmitted:
        return draft_missing(request, draft.id)
    # The session only records what this browser may see; the secret goes to the
    # browser alone (see hand_over_access_code), so no session row ever holds it.
    grant_submission(request, submission)
    request.session[f"portal_draft_submitted_{draft.id}"] = submission.reference
    response = redirect("citizen:confirmation", reference=submission.reference)
    hand_over_access_code(request, response, reference=submission.reference, secret=secret)
    return response


@never_cache
@allow_methods("GET", "HEAD", "POST")
def save_for_later(request: HttpRequest, draft_id) -> HttpResponse:
    draft = draft_for_session(request=request, draft_id=draft_id)
    if draft is None:
        return draft_missing(request, draft_id)
    form = SaveForLaterForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {
        "draft": draft,
        "gemeinde": draft.gemeinde,
        "service_name": draft.service.name(language()),
        "form": form,
        "lifetime_days": settings.PORTAL_DRAFT_LIFETIME_DAYS,
        "continue_url": reverse("citizen:draft", kwargs={"draft_id": draft.id}),
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if email and _resume_mail_limited(request, draft):
            # Refused before a new link is issued, so a link mailed earlier still works.
            status = 429
            form.add_error(
                "email",
                _(
                    "Für diesen Antrag oder von Ihrem Anschluss wurden in kurzer Zeit schon "
                    "mehrere E-Mails angefordert. Bitte versuchen Sie es in einer Stunde erneut "
                    "oder lassen Sie das Feld leer: Dann zeigen wir Ihnen den Link hier an."
                ),
            )
        else:
            token, nonce = draft_issue_resume_link(draft=draft)
            url = request.build_absolute_uri(reverse("citizen:resume", kwargs={"token": token}))
            mailed = None
            if email:
                mailed = draft_queue_resume_mail(
                    draft=draft,
                    email=email,
                    nonce=nonce,
                    base_url=request.build_absolute_uri("/"),
                    language=language(),
                )
            context.update({"resume_url": url, "mailed": mailed, "email": email})
    context["forms_with_errors"] = [form] if form.errors else []
    context["page_has_errors"] = bool(form.errors)
    return render(request, "submissions/save.html", context, status=status)


def _resume_mail_limited(request: HttpRequest, draft: Draft) -> bool:
    """Count a resume mail request per client and per draft (any address); True if over."""
    limited_client = rate_limit_hit(request=request, scope="save_mail")
    limited_draft = rate_limit_hit_key(scope="save_mail_draft", key=str(draft.id))
    return limited_client or limited_draft


@never_cache
@allow_methods("GET", "HEAD")
def resume(request: HttpRequest, token: str) -> HttpResponse:
    if rate_limit_hit(request=request, scope="resume"):
        return too_many_requests(request)
    draft = draft_find_by_token(token=token)
    if draft is None:
        return error_page(
            request,
            status=404,
            title=_("Link ungültig oder abgelaufen"),
            message=_(
                "Mit diesem Link lässt sich kein Antrag fortsetzen. Vielleicht ist er abgelaufen, "
                "wurde durch einen neueren Link ersetzt oder der Antrag wurde schon abgeschickt."
            ),
        )
    draft_grant_session(request=request, draft=draft)
    response = redirect("citizen:draft", draft_id=draft.id)
    # The resume link may open in another browser: continue in the draft's language,
    # which the language cookie carries into every following page.
    draft_lang = draft_language_get(draft=draft)
    if draft_lang:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            draft_lang,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
