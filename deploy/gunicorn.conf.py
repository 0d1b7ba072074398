"""gunicorn settings for `gunicorn -c deploy/gunicorn.conf.py app:app` (the container's command)."""

import os

from gateway import config
from gateway.server import (
    ACCESS_LOG_FORMAT,
    LIMIT_REQUEST_FIELDS,
    LIMIT_REQUEST_LINE,
    WORKER_CLASS,
    refuse_unshared_limits,
)

# the same GATEWAY_* settings `skillgw serve` reads
_settings = config.load()
# all interfaces: inside a container the port is only reachable as published
bind = f"{os.environ.get('GATEWAY_HOST', '0.0.0.0')}:{_settings['PORT']}"  # noqa: S104
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
accesslog = "-"
# the path without its query string and no referer: no token or filter value in the log
access_log_format = ACCESS_LOG_FORMAT
errorlog = "-"
loglevel = os.environ.get("GATEWAY_LOG_LEVEL", "info")
# the gateway needs no runtime control socket, and a shared default path would collide
control_socket_disable = True
# X-Forwarded-* from the load balancer is honoured by the app (GATEWAY_TRUSTED_PROXIES)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
