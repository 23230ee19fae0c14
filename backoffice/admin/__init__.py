"""The back office in the Django admin, one module per concern.

cases: the clerks' case list and case page (and their filters, downloads);
audit: the audit trail; staff: office memberships; pipeline: deliveries and
"retry"; fees: office leads' own fee parameters; ortsteile: their Gemeinden's
Ortsteile and former names; offices: their own offices' contact data; services: the catalogue's
service admin with the retention period guarded; message_templates: office leads'
Rückfrage templates; decision_templates: the Bescheid texts. Importing them registers them.
Loading the admin also connects the audit trail's login receivers.
"""

from .. import login_audit
from . import (
    audit,
    cases,
    decision_templates,
    fees,
    message_templates,
    offices,
    ortsteile,
    pipeline,
    services,
    staff,
)

login_audit.connect_login_signals()

__all__ = [
    "audit",
    "cases",
    "decision_templates",
    "fees",
    "message_templates",
    "offices",
    "ortsteile",
    "pipeline",
    "services",
    "staff",
]
