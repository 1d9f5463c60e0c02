# shellcheck shell=bash
# MySQL/MariaDB helpers for bench/mysql-to-pg.sh and bench/mysql-to-mysql.sh. Source it after
# bench/lib.sh; it defines functions only, apart from defaulting the server settings (MYSQL_HOST,
# MYSQL_PORT, MYSQL_USER; MYSQL_PWD is read by the clients themselves) and finding the clients.

export MYSQL_HOST="${MYSQL_HOST:-127.0.0.1}"
export MYSQL_PORT="${MYSQL_PORT:-3306}"
export MYSQL_USER="${MYSQL_USER:-root}"

# The command-line client: `mariadb` (MariaDB's name) or `mysql`.
MY_CLIENT="$(type -P mariadb || type -P mysql || true)"
# The dump client: `mariadb-dump` or `mysqldump` (used by the scripts that source this file).
# shellcheck disable=SC2034
MY_DUMP="$(type -P mariadb-dump || type -P mysqldump || true)"

# The options every mariadb/mariadb-dump run gets: no option files (~/.my.cnf), TCP to the server.
MY_CONN_ARGS=(--no-defaults --protocol=TCP -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER")

# Client that never reads option files (~/.my.cnf), talks TCP to the
# configured server, and stops at the first error. Usage: my DB [client args...]
# (DB may be "" for none).
my() {
  local db="$1"
  shift
  local args=("${MY_CONN_ARGS[@]}" --batch)
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

# Drops database DB (if it exists) and creates it empty, in utf8mb4.
my_recreate_db() {
  my "" -e "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4"
}

my_drop_db() { my "" -e "DROP DATABASE IF EXISTS \`$1\`"; }

# The server's own CHECKSUM TABLE of DB.TABLE (its stored rows: equal values in equal column
# definitions give equal sums). Usage: my_checksum DB TABLE
my_checksum() { my_val "" "CHECKSUM TABLE \`$1\`.\`$2\`" | cut -f2; }

# A content fingerprint of DB.TABLE that does not depend on the column definitions: the row count
# and the sum of CRC32 over every column's value as text (QUOTE() tells NULL from 'NULL'), columns
# in the order of COLUMNS (space-separated; default: the table's own). Timestamps are read in UTC.
# Usage: my_fingerprint DB TABLE [COLUMNS]
my_fingerprint() {
  local db="$1" table="$2" cols="${3:-}" c expr=""
  [[ -n "$cols" ]] || cols="$(my_columns "$db" "$table")" || return 1
  for c in $cols; do expr+="${expr:+, }QUOTE(\`$c\`)"; done
  [[ -n "$expr" ]] || return 1
  my "" --skip-column-names -e "SET time_zone = '+00:00';
    SELECT CONCAT(COUNT(*), ' ', COALESCE(SUM(CRC32(CONCAT_WS('|', $expr))), 0)) FROM \`$db\`.\`$table\`"
}

# Column names of DB.TABLE in table order, space-separated.
my_columns() {
  my_val "" "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR ' ')
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$1' AND TABLE_NAME = '$2'"
}

# CPU seconds (user+system, in clock ticks) the MySQL/MariaDB server process has used so far, or
# empty when it is not a local process this user can read. Usage: t=$(my_server_ticks)
MY_SERVER_PID="$(pgrep -o -x mariadbd || pgrep -o -x mysqld || true)"
my_server_ticks() {
  [[ -n "$MY_SERVER_PID" && -r "/proc/$MY_SERVER_PID/stat" ]] || return 0
  # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$MY_SERVER_PID/stat" 2>/dev/null
}
# Seconds between two my_server_ticks values, one decimal; empty when either is. Usage: my_server_secs T0 T1
my_server_secs() {
  [[ -n "${1:-}" && -n "${2:-}" ]] || return 0
  awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }'
}
