# Sourced by .ci/run: starts this machine's PostgreSQL cluster (installed by .ci/run where it
# is missing), creates the tests' role and database if they are not there yet, and exports
# SLUICE_TEST_POSTGRES_URL for the test harness (test/helpers/database.ts). Safe to run
# again on a machine where all of it is already done.

# The newest installed major version, rather than a fixed 15.
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if [ -z "$pg_version" ]; then echo "ci: no PostgreSQL under /usr/lib/postgresql" >&2; return 1; fi

if [ "$(id -u)" = 0 ]; then as_postgres=(runuser -u postgres --); else as_postgres=(sudo -u postgres); fi

# A field of the main cluster's line in pg_lsclusters: 3 its port, 4 its status.
cluster() { pg_lsclusters --no-header | awk -v version="$pg_version" -v field="$1" '$1 == version && $2 == "main" { print $field }'; }
if [ -z "$(cluster 2)" ]; then pg_createcluster "$pg_version" main >/dev/null; fi
pg_port=$(cluster 3)
case "$(cluster 4)" in
  online*) ;;
  *) pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start ;;
esac
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$pg_port"

psql_admin() { "${as_postgres[@]}" psql -X -q -v ON_ERROR_STOP=1 -p "$pg_port" -d postgres "$@"; }
# Every test makes and drops a database of its own: CREATEDB, and no more, is what it needs.
psql_admin <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice') THEN
    CREATE ROLE sluice LOGIN CREATEDB PASSWORD 'sluice';
  END IF;
END
$$;
SQL
if [ -z "$(psql_admin -Atc "SELECT 1 FROM pg_database WHERE datname = 'sluice'")" ]; then
  psql_admin -c "CREATE DATABASE sluice OWNER sluice TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
fi
if [ "${CI:-}" = true ]; then
  # CI's cluster is thrown away with the machine: durability buys it nothing, and the
  # checkpoint of every DROP DATABASE costs a flush of the disk without this.
  psql_admin -c "ALTER SYSTEM SET fsync = off" -c "ALTER SYSTEM SET full_page_writes = off" -c "ALTER SYSTEM SET synchronous_commit = off" -c "SELECT pg_reload_conf()" >/dev/null
fi

export SLUICE_TEST_POSTGRES_URL="postgres://sluice:sluice@127.0.0.1:${pg_port}/sluice"
echo "ci: PostgreSQL $pg_version on port $pg_port"
