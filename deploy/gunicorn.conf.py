"""gunicorn settings for `gunicorn -c deploy/gunicorn.conf.py app:app` (the container's command)."""

import os

# Workers keep their metric values in files here; the master empties it when it starts
# (on_starting) and drops a dead worker's gauges (child_exit). Set before any worker forks.
# In the container /tmp is a writable emptyDir; the root filesystem is read-only.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/gateway-metrics")  # noqa: S108

from gateway import config  # noqa: E402
from gateway.server import (  # noqa: E402
    LIMIT_REQUEST_FIELDS,
    LIMIT_REQUEST_LINE,
    WORKER_CLASS,
    gunicorn_telemetry,
    metrics_bind,
    refuse_unshared_limits,
)

# the same GATEWAY_* settings `skillgw serve` reads
_settings = config.load()
# all interfaces: inside a container the port is only reachable as published
_host = os.environ.get("GATEWAY_HOST", "0.0.0.0")  # noqa: S104
# the API's port, and /metrics on a port of its own when GATEWAY_METRICS=port
bind = [f"{_host}:{_settings['PORT']}", *metrics_bind(_settings, _host)]
workers = int(_settings["WORKERS"])
# memory:// rate-limit counters with several workers would multiply every limit: refuse
refuse_unshared_limits(_settings, workers)
# the sync worker, answering gunicorn's own 400/414/431 in the gateway's JSON envelope
worker_class = WORKER_CLASS
# each worker builds its own app and connection pool after the fork; a pool must not cross it
preload_app = False
timeout = 30
graceful_timeout = 10
keepalive = 5
# a request line or header block this large is an attack or a bug, not a transcript query
limit_request_line = LIMIT_REQUEST_LINE
limit_request_fields = LIMIT_REQUEST_FIELDS
# JSON lines on stdout for every logger, gunicorn's error log included; no gunicorn access log:
# the app writes one line per request (id, client, route template, status, duration) and
# gunicorn's would add the client's address and the raw path
_telemetry = gunicorn_telemetry(_settings)
accesslog = _telemetry["accesslog"]
errorlog = _telemetry["errorlog"]
loglevel = _telemetry["loglevel"]
logconfig_dict = _telemetry["logconfig_dict"]
on_starting = _telemetry["on_starting"]
child_exit = _telemetry["child_exit"]
# the gateway needs no runtime control socket, and a shared default path would collide
control_socket_disable = True
# X-Forwarded-* from the load balancer is honoured by the app (GATEWAY_TRUSTED_PROXIES)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
