"""gunicorn's own log lines (boot, worker timeouts) in the portal's log format.

Use with ``gunicorn --logger-class thueringen_portal.gunicorn_logging.PortalGunicornLogger``.
gunicorn sets up its loggers in the master process before Django is loaded, so
this reads ``PORTAL_LOG_FORMAT`` from the settings module itself.
"""

from __future__ import annotations

import os

from django.conf import settings
from gunicorn.glogging import Logger

from .logs import LogContextFilter, PlainFormatter, PortalJsonFormatter


class PortalGunicornLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thueringen_portal.settings")
        if settings.PORTAL_LOG_FORMAT == "json":
            formatter = PortalJsonFormatter()
        else:
            formatter = PlainFormatter(settings.LOGGING["formatters"]["plain"]["format"])
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(formatter)
                    handler.addFilter(LogContextFilter())
