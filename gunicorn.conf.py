"""gunicorn settings read by every `gunicorn adminpanel.wsgi` started from the project folder (web, tests)."""

# Access and error logs go through the dashboard's log privacy (no contact or user id in clear).
logger_class = "adminpanel.core.gunicorn_logging.PrivateLogger"
