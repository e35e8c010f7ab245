"""gunicorn's logger with the dashboard's log privacy: access-log atoms masked, our filter on every handler."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from adminpanel.core.log_privacy import MaskPersonalData, mask_atoms


class PrivateLogger(Logger):
    """The request line, path, query and referer of every access-log line pass through mask_log_text."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(MaskPersonalData())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        return mask_atoms(super().atoms(resp, req, environ, request_time))
