-- The gateway's least-privileged login role, created once per cluster before the first
-- `skillgw db upgrade` (which then only grants it privileges). Run as a superuser or a role
-- with CREATEROLE:
--     psql -v ON_ERROR_STOP=1 -v app_password='a long random secret' -f deploy/postgres/roles.sql
-- The role owns nothing and cannot bypass row-level security; its password is the one in
-- GATEWAY_APP_DATABASE_URL (or GATEWAY_DATABASE_APP_PASSWORD).

\if :{?app_password}
\else
    \echo 'app_password not given: using the placeholder CHANGE_ME (never in production)'
    \set app_password 'CHANGE_ME'
\endif

SELECT format(
    'CREATE ROLE gateway_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT '
    'NOREPLICATION PASSWORD %L',
    :'app_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_app')
\gexec

-- re-running tightens an existing role back to these attributes and sets the password
ALTER ROLE gateway_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
SELECT format('ALTER ROLE gateway_app PASSWORD %L', :'app_password')
\gexec

-- The app's pool turns JIT off on each of its connections (gateway/db.py: the developer page,
-- planned over every monthly partition, costs past jit_above_cost and compiling it took longer
-- than running it). The role carries the same default for connections that cannot pass
-- startup options, such as through a PgBouncer that drops them.
ALTER ROLE gateway_app SET jit = off;
