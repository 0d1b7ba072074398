"""gunicorn settings for `gunicorn -c deploy/gunicorn.conf.py app:app` (the container's command)."""

import os

# the same GATEWAY_* settings `skillgw serve` reads
# all interfaces: inside a container the port is only reachable as published
bind = f"{os.environ.get('GATEWAY_HOST', '0.0.0.0')}:{os.environ.get('GATEWAY_PORT', '8080')}"  # noqa: S104
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
worker_class = "sync"
# each worker builds its own app and connection pool after the fork; a pool must not cross it
preload_app = False
timeout = 30
graceful_timeout = 10
keepalive = 5
# a request line or header block this large is an attack or a bug, not a transcript query
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
# the path without its query string and no referer: no token or filter value in the log
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GATEWAY_LOG_LEVEL", "info")
# the gateway needs no runtime control socket, and a shared default path would collide
control_socket_disable = True
# X-Forwarded-* from the load balancer is honoured by the app (GATEWAY_TRUSTED_PROXIES)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
