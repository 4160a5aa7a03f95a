#!/usr/bin/env bash
# Drops the per-test databases (gj_test_*) that no session is using. Tests make one each.
set -uo pipefail
psql -h 127.0.0.1 -U postgres -qAt postgres <<'SQL' | psql -h 127.0.0.1 -U postgres -q postgres >/dev/null 2>&1
SELECT format('DROP DATABASE IF EXISTS %I;', d.datname)
FROM pg_database d
WHERE d.datname LIKE 'gj\_test\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname);
SQL
exit 0
