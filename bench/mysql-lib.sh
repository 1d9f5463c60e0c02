# shellcheck shell=bash
# MySQL/MariaDB helpers for bench/mysql-to-pg.sh. Source it after bench/lib.sh;
# it defines functions only, apart from defaulting the server settings
# (MYSQL_HOST, MYSQL_PORT, MYSQL_USER; MYSQL_PWD is read by the client itself).

export MYSQL_HOST="${MYSQL_HOST:-127.0.0.1}"
export MYSQL_PORT="${MYSQL_PORT:-3306}"
export MYSQL_USER="${MYSQL_USER:-root}"

# The command-line client: `mariadb` (MariaDB's name) or `mysql`.
MY_CLIENT="$(type -P mariadb || type -P mysql || true)"

# Client that never reads option files (~/.my.cnf), talks TCP to the
# configured server, and stops at the first error. Usage: my DB [client args...]
# (DB may be "" for none).
my() {
  local db="$1"
  shift
  local args=(--no-defaults --protocol=TCP -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" --batch)
  [[ -n "$db" ]] && args+=(--database="$db")
  "$MY_CLIENT" "${args[@]}" "$@"
}

# One value, no header. Usage: my_val DB SQL
my_val() { my "$1" --skip-column-names -e "$2"; }

# "mysql://user[:pass]@host:port/DB" for ferry's and pgloader's URLs.
my_url() {
  local auth="$MYSQL_USER"
  [[ -n "${MYSQL_PWD:-}" ]] && auth+=":$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$MYSQL_PWD")"
  printf 'mysql://%s@%s:%s/%s' "$auth" "$MYSQL_HOST" "$MYSQL_PORT" "$1"
}

my_ensure_db() {
  my "" -e "CREATE DATABASE IF NOT EXISTS \`$1\` CHARACTER SET utf8mb4"
}

# Row count of DB.data_fact, or failure if the table is missing.
my_data_fact_count() {
  local exists
  exists="$(my_val "" "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$1' AND TABLE_NAME = 'data_fact'" 2>/dev/null)" || return 1
  [[ "$exists" == 1 ]] || return 1
  my_val "$1" "SELECT COUNT(*) FROM data_fact"
}

# "t" if DB.data_fact has a primary key.
my_data_fact_has_pk() {
  local n
  n="$(my_val "" "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = '$1' AND TABLE_NAME = 'data_fact' AND CONSTRAINT_TYPE = 'PRIMARY KEY'" 2>/dev/null)" || return 1
  [[ "$n" == 1 ]] && echo t || echo f
}

# DDL of the MySQL benchmark table: the same columns as PostgreSQL's
# public.data_fact, the uuid as char(36) text. TIMESTAMP (not DATETIME) so
# that it maps to timestamptz, like the PostgreSQL column.
my_data_fact_ddl() {
  cat <<'SQL'
CREATE TABLE data_fact (
  uuid char(36) NOT NULL,
  `timestamp` timestamp(6) NULL DEFAULT NULL,
  value double DEFAULT NULL,
  fuel_id int DEFAULT NULL,
  region_id int DEFAULT NULL,
  power_id int DEFAULT NULL,
  date_id int DEFAULT NULL,
  time_id int DEFAULT NULL,
  PRIMARY KEY (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
SQL
}
