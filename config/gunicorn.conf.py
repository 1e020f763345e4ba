"""gunicorn settings for the site: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Every value can be changed per deployment through the environment (names below) or gunicorn's own
GUNICORN_CMD_ARGS; command-line flags win over this file. Signals: HUP replaces the workers
gracefully (new code and settings, no dropped requests), TERM stops after in-flight requests end.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Behind a TLS proxy or load balancer; PORT is the convention of most platforms.
bind = [os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")]

# Processes: WEB_CONCURRENCY (the common convention), else gunicorn's suggested 2 x CPUs + 1, so
# a page waiting on Cognito, STS or S3 leaves others to serve. Any worker can serve any request:
# the session and the user come from the shared database and cache, never from process memory.
# One request per process (sync workers): gunicorn's threaded worker (GUNICORN_THREADS above 1
# selects it) can reset connections it has accepted while it restarts on HUP or max_requests
# (gunicorn issues 3038 and 3380; tests/prod/test_gunicorn.py shows the sync worker does not).
workers = _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)
worker_class = "sync"
threads = _int("GUNICORN_THREADS", 1)

# A request may wait on a few AWS calls, each bounded by HTTP_CONNECT_TIMEOUT + HTTP_READ_TIMEOUT
# (8 s by default): 30 s is a hung worker, which gunicorn then replaces.
timeout = _int("GUNICORN_TIMEOUT", 30)
# Seconds in-flight requests get to finish on HUP, TERM or a worker recycle.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Threaded workers only (sync workers close each connection; the proxy keeps its clients').
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle each worker after about this many requests (a slow leak never grows without bound); the
# jitter keeps the workers from all restarting at the same moment.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Each worker imports the app itself: HUP then reloads code, and no database connection or boto3
# client is ever shared across a fork.
preload_app = False
# The heartbeat file in memory, not on a container's overlay disk (a stalled disk would look like
# stalled workers).
SHARED_MEMORY = "/dev/shm"  # noqa: S108 (gunicorn's documented choice; holds only heartbeats)
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY

# Only the proxy in front may say the request came over HTTPS (X-Forwarded-Proto); gunicorn's own
# FORWARDED_ALLOW_IPS names it (default 127.0.0.1).

# Access log on stdout. It names the path WITHOUT the query string (%(U)s, never %(r)s or %(q)s):
# the callback's query carries the authorization `code` and `state`, and other pages' queries may
# carry user input. No Referer either: the managed login page that sends users back has the
# `state` in its own URL. Method, path, status, bytes, milliseconds, user agent, forwarded-for.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = (
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" fwd="%({x-forwarded-for}i)s"'
)
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
