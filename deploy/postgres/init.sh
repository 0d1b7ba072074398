#!/bin/sh
# docker-entrypoint-initdb.d hook for compose.yaml: create the app role with its password.
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="$GATEWAY_APP_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f /gateway/roles.sql
