"""Models of the submissions app, one module per concern.

core: drafts, submissions, attachments, history, deliveries. Other concerns
(pipeline records, back-office work) live in modules of their own and are
imported here so Django finds them.
"""

from .backoffice import (
    AuditEntry,
    CaseNote,
    StaffMembership,
    StaffProfile,
    StatusNotification,
)
from .core import (
    Attachment,
    Delivery,
    Draft,
    Submission,
    SubmissionEvent,
    attachment_path,
    pdf_path,
)

__all__ = [
    "Attachment",
    "AuditEntry",
    "CaseNote",
    "Delivery",
    "Draft",
    "StaffMembership",
    "StaffProfile",
    "StatusNotification",
    "Submission",
    "SubmissionEvent",
    "attachment_path",
    "pdf_path",
]
