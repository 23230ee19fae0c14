"""Models of the submissions app, one module per concern.

core: drafts, submissions, attachments, history, deliveries; tallies: the
counts statistics read. Other concerns
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
from .tallies import DecisionTally, ServiceTally, SubmissionTally

__all__ = [
    "Attachment",
    "DecisionTally",
    "Delivery",
    "Draft",
    "ServiceTally",
    "Submission",
    "SubmissionEvent",
    "SubmissionTally",
    "attachment_path",
    "pdf_path",
]
