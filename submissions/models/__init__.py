"""Models of the submissions app, one module per concern.

core: drafts, submissions, attachments, history, deliveries; info_requests: the
clerk's questions to the citizen (Rückfrage) and the answers; tallies: the counts
statistics read. Other concerns
live in modules of their own and are imported here so Django finds them. The
back office's models (staff, notes, audit trail, status e-mails) are in
`backoffice.models`.
"""

from .core import (
    Attachment,
    Delivery,
    Draft,
    Submission,
    SubmissionEvent,
    attachment_path,
    pdf_path,
)
from .decisions import DecisionLetter
from .info_requests import InfoRequest
from .tallies import DecisionTally, ServiceTally, SubmissionTally

__all__ = [
    "Attachment",
    "DecisionLetter",
    "DecisionTally",
    "Delivery",
    "Draft",
    "InfoRequest",
    "ServiceTally",
    "Submission",
    "SubmissionEvent",
    "SubmissionTally",
    "attachment_path",
    "pdf_path",
]
