#!/usr/bin/env bash
# MySQL/MariaDB -> PostgreSQL copy benchmark: ferry against pgloader.
#
#   bash bench/mysql-to-pg.sh
#   BENCH_ROWS=200000 BENCH_ROUNDS=1 bash bench/mysql-to-pg.sh    # quick try
#
# Prints figures; it is not a test. A contender that fails is shown as
# "FAILED (exit N)" and skipped in later rounds; a missing pgloader is reported
# as "pgloader not installed" and ferry still runs. The script itself only
# exits non-zero when it cannot prepare the data (a server unreachable, bad env).
# See bench/README.md for what each line means.
#
# Environment (all optional):
#   PGHOST PGPORT PGUSER    PostgreSQL server (default 127.0.0.1, 5432, postgres)
#   MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PWD
#                           MySQL/MariaDB server (default 127.0.0.1, 3306, root, no password)
#   BENCH_ROWS              rows in the source table (default 5183352)
#   BENCH_ROUNDS            rounds; each round runs every contender once (default 3);
#                           0 only prepares the source table
#   BENCH_CONTENDERS        which contenders: p (pgloader), f (ferry) (default "p f")
#   FERRY_PARALLEL          ferry's defaults.parallel in the job file (default: ferry's own default on this machine)
#   FERRY_BIN               ferry's entry point, run with node (default bin/ferry.js)
#   PGLOADER_BIN            pgloader command (default pgloader from the PATH)
#   PGLOADER_DYNAMIC_SPACE_MB  pgloader's Lisp heap, --dynamic-space-size (default 4096; 0 = the build's default)
#   PGLOADER_WITH           pgloader's tuning WITH options
#                           (default "workers = 2, concurrency = 1, prefetch rows = 10000"; "" = pgloader's own)
#   BENCH_TIMEOUT           seconds before one contender run is killed (default 0 = never)
#   BENCH_RSS_INTERVAL_MS   memory sampling interval (default 100)
#   BENCH_GNU_TIME          1/0: also measure memory with GNU time if present (default 1)
#   BENCH_KEEP              1: keep the temp dir (job file, pgloader command file, logs) at the end

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/mysql-lib.sh
source bench/mysql-lib.sh

PG_SRC_DB=ferry_bench_src    # bench/pg-to-pg.sh's table, exported into MySQL
MY_DB=ferry_bench_my
PGL_DB=ferry_bench_pgl       # pgloader's target
FERRY_DB=ferry_bench_my2pg   # ferry's target
ROWS="${BENCH_ROWS:-5183352}"
ROUNDS="${BENCH_ROUNDS:-3}"
PARALLEL="${FERRY_PARALLEL:-$(ferry_default_parallel)}"
FERRY_BIN="${FERRY_BIN:-bin/ferry.js}"
TIMEOUT="${BENCH_TIMEOUT:-0}"
RSS_INTERVAL_MS="${BENCH_RSS_INTERVAL_MS:-100}"
PGL_SPACE="${PGLOADER_DYNAMIC_SPACE_MB:-4096}"
PGL_WITH="${PGLOADER_WITH-workers = 2, concurrency = 1, prefetch rows = 10000}"
BENCH_CONTENDERS="${BENCH_CONTENDERS:-p f}"
read -r -a CONTENDERS <<<"${BENCH_CONTENDERS//,/ }"

require_whole_numbers ROWS ROUNDS PARALLEL TIMEOUT RSS_INTERVAL_MS PGL_SPACE
for c in "${CONTENDERS[@]}"; do
  [[ "$c" =~ ^[pf]$ ]] || { echo "bench: unknown contender '$c' (use p f)" >&2; exit 2; }
done
if [[ -z "$MY_CLIENT" ]]; then
  echo "bench: neither the mariadb nor the mysql client is installed (apt-get install mariadb-client)" >&2
  exit 1
fi

declare -A LABEL=(
  [p]="p  pgloader"
  [f]="f  ferry run (parallel $PARALLEL)"
)
declare -A TARGET_DB=([p]="$PGL_DB" [f]="$FERRY_DB")
declare -A TIMES=()   # contender -> "secs secs ..." (one per round)
declare -A FAILED=()  # contender -> "FAILED (exit N)" or why it did not run
declare -A CHECK=()   # contender -> "ok" or what was wrong
declare -A RSS_TREE=() RSS_HWM=() RSS_GNU=()  # contender -> "kb kb ..." (successful rounds)
declare -A CPU=()     # contender -> "secs secs ..." user+system CPU of the contender's own processes (GNU time)

set_timeout_and_gnu_time

PGLOADER="$(type -P "${PGLOADER_BIN:-pgloader}" || true)"
if [[ -z "$PGLOADER" && " ${CONTENDERS[*]} " == *" p "* ]]; then
  warn "pgloader not installed (apt-get install pgloader)"
  FAILED[p]="pgloader not installed (apt-get install pgloader)"
fi

make_work_dir ferry-bench-my pgloader

JOB="$WORK/job.yaml"
cat >"$JOB" <<YAML
source: $(my_url "$MY_DB")
target: postgres://${PGUSER}@${PGHOST}:${PGPORT}/${FERRY_DB}
defaults:
  mode: full-refresh
  parallel: ${PARALLEL}
streams:
  ${MY_DB}.data_fact: { target: public.data_fact }
YAML

# pgloader puts a MySQL database's tables into a PostgreSQL schema of the same
# name: rename it to public, so both targets are public.data_fact.
PGL_CMD="$WORK/data_fact.load"
cat >"$PGL_CMD" <<PGLOADER_COMMANDS
LOAD DATABASE
  FROM $(my_url "$MY_DB")
  INTO postgresql://${PGUSER}@${PGHOST}:${PGPORT}/${PGL_DB}
WITH include drop, create tables, create indexes, reset sequences${PGL_WITH:+,
     $PGL_WITH}
INCLUDING ONLY TABLE NAMES MATCHING 'data_fact'
ALTER SCHEMA '${MY_DB}' RENAME TO 'public';
PGLOADER_COMMANDS
PGL_OPTS=()
((PGL_SPACE > 0)) && PGL_OPTS=(--dynamic-space-size "$PGL_SPACE")

# ---------------------------------------------------------------- prepare ---

# Loads the first ROWS rows (by uuid) of PostgreSQL's ferry_bench_src.public.data_fact
# into MySQL with LOAD DATA LOCAL INFILE, streamed through a pipe. Rows arrive
# in key order, so InnoDB appends to its clustered index instead of splitting
# pages at random.
prepare_source() {
  ensure_db "$PGL_DB" || return 1
  ensure_db "$FERRY_DB" || return 1
  my_ensure_db "$MY_DB" || return 1
  local have pk
  have="$(my_data_fact_count "$MY_DB" 2>/dev/null)" || have=""
  pk="$(my_data_fact_has_pk "$MY_DB")" || pk=""
  if [[ "$have" == "$ROWS" && "$pk" == t ]]; then
    log "source $MY_DB.data_fact already holds $ROWS rows"
    return 0
  fi
  local pg_have
  pg_have="$(data_fact_count "$PG_SRC_DB" 2>/dev/null)" || pg_have=0
  if ((pg_have < ROWS)); then
    log "$PG_SRC_DB.public.data_fact has ${pg_have} rows, fewer than $ROWS: building it with bench/pg-to-pg.sh"
    BENCH_ROWS="$ROWS" BENCH_ROUNDS=0 bash bench/pg-to-pg.sh >&2 || return 1
  fi
  log "loading $ROWS rows into $MY_DB.data_fact from $PG_SRC_DB.public.data_fact (found: ${have:-no table})"
  local t0 t1
  t0="$(now)"
  my "$MY_DB" -e "DROP TABLE IF EXISTS data_fact" || return 1
  my_data_fact_ddl | my "$MY_DB" || return 1
  local warnings
  # shellcheck disable=SC2016
  warnings="$(
    pg "$PG_SRC_DB" -c "COPY (
        SELECT uuid, to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
               value, fuel_id, region_id, power_id, date_id, time_id
          FROM public.data_fact ORDER BY uuid LIMIT $ROWS) TO STDOUT" |
      my "$MY_DB" --local-infile=1 --skip-column-names -e "
        SET time_zone = '+00:00', unique_checks = 0, foreign_key_checks = 0;
        LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE data_fact CHARACTER SET utf8mb4
          (uuid, \`timestamp\`, value, fuel_id, region_id, power_id, date_id, time_id);
        SELECT @@warning_count;"
  )" || return 1
  [[ "$warnings" == 0 ]] || warn "LOAD DATA reported $warnings warning(s)"
  my "$MY_DB" -e "ANALYZE TABLE data_fact" >/dev/null || return 1
  have="$(my_data_fact_count "$MY_DB")" || return 1
  if [[ "$have" != "$ROWS" ]]; then
    echo "bench: $MY_DB.data_fact has $have rows after loading, expected $ROWS" >&2
    return 1
  fi
  t1="$(now)"
  log "source ready in $(elapsed "$t0" "$t1") s"
}

if ! pg_val postgres "SELECT 1" >/dev/null; then
  echo "bench: cannot reach PostgreSQL at $PGHOST:$PGPORT as $PGUSER" >&2
  exit 1
fi
if ! my_val "" "SELECT 1" >/dev/null; then
  echo "bench: cannot reach MySQL/MariaDB at $MYSQL_HOST:$MYSQL_PORT as $MYSQL_USER" >&2
  exit 1
fi
prepare_source || { echo "bench: preparing the source failed" >&2; exit 1; }
SRC_COUNT="$(my_data_fact_count "$MY_DB")" || { echo "bench: cannot count the source" >&2; exit 1; }
if ((ROUNDS == 0)); then
  log "BENCH_ROUNDS=0: source prepared ($SRC_COUNT rows), nothing timed"
  exit 0
fi

if [[ " ${CONTENDERS[*]} " == *" f "* ]]; then
  warn_if_stale_build f
fi

# ------------------------------------------------------------ contenders ---


# pgloader: the target table is dropped first (pgloader would drop it too, but
# not on the clock), then the command file is loaded.
run_p() {
  drop_data_fact "$PGL_DB" || { RUN_RC=90; return; }
  checkpoint
  measured p "$1" "$PGLOADER" "${PGL_OPTS[@]}" --root-dir "$WORK/pgloader" "$PGL_CMD"
}

# ferry: a fresh full refresh each time (no state folder, no target table).
run_f() {
  drop_data_fact "$FERRY_DB" || { RUN_RC=90; return; }
  rm -rf "$WORK/.ferry"
  checkpoint
  measured f "$1" node "$FERRY_BIN" run "$JOB"
}

# Row count and primary key of the contender's target after a successful run.
verify() {
  local c="$1" db="${TARGET_DB[$1]}" got pk notes=()
  got="$(data_fact_count "$db" 2>/dev/null)" || got=""
  if [[ "$got" != "$SRC_COUNT" ]]; then
    warn "$c: target $db.public.data_fact has ${got:-no table} rows, source has $SRC_COUNT"
    notes+=("rows ${got:-none}!=$SRC_COUNT")
  fi
  pk="$(data_fact_has_pk "$db")" || pk=""
  if [[ "$pk" != t ]]; then
    warn "$c: target table $db.public.data_fact has no primary key"
    notes+=("no PK")
  fi
  local note="ok"
  ((${#notes[@]})) && note="${notes[*]}"
  if [[ -z "${CHECK[$c]:-}" || "${CHECK[$c]}" == ok ]]; then CHECK[$c]="$note"; fi
}

run_one() {
  local c="$1" round="$2" logf="$WORK/logs/$1.$2.log"
  RUN_RC=0 RUN_SECS=""
  log "round $round/$ROUNDS: ${LABEL[$c]}"
  "run_$c" "$round" >"$logf" 2>&1
  # pgloader reports a failed load in its summary but can still exit 0.
  if ((RUN_RC == 0)) && [[ "$c" == p ]] && grep -q -E 'Heap exhausted|KABOOM|FATAL' "$logf"; then
    RUN_RC=99
  fi
  if ((RUN_RC != 0)); then
    record_failure "$c" "$logf"
    return
  fi
  TIMES[$c]+="${TIMES[$c]:+ }$RUN_SECS"
  log "  $c: $RUN_SECS s"
  verify "$c"
}

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
run_rounds

# --------------------------------------------------------------- report ---

declare -A MEDIAN=()
for k in p f; do
  # shellcheck disable=SC2086
  [[ -n "${TIMES[$k]:-}" ]] && MEDIAN[$k]="$(median ${TIMES[$k]})"
done

cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
my_var() { my_val "" "SELECT @@$1" 2>/dev/null; }
my_size="$(my_val "" "SELECT CONCAT(ROUND(DATA_LENGTH / 1048576), ' MB data+PK, ', ROUND(INDEX_LENGTH / 1048576), ' MB other indexes') FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$MY_DB' AND TABLE_NAME = 'data_fact'" 2>/dev/null)"
pgl_version="$([[ -n "$PGLOADER" ]] && "$PGLOADER" --version 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')"

echo
echo "== ferry mysql-to-pg benchmark =="
printf '%-18s %s\n' \
  "date" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  "machine" "nproc $(nproc), ${cpu:-unknown cpu}, ${mem:-? RAM}, $(uname -sr)" \
  "mysql" "$(my_var version) at $MYSQL_HOST:$MYSQL_PORT (innodb_buffer_pool_size $(($(my_var innodb_buffer_pool_size) / 1048576))MB)" \
  "postgres" "$(pg_setting server_version) at $PGHOST:$PGPORT (shared_buffers $(pg_setting shared_buffers), maintenance_work_mem $(pg_setting maintenance_work_mem), wal_level $(pg_setting wal_level), synchronous_commit $(pg_setting synchronous_commit))" \
  "client" "$(basename "$MY_CLIENT") $("$MY_CLIENT" --version 2>/dev/null | sed -E 's/.*Distrib ([^,]+),.*/\1/'), $(psql --version), node $(node --version 2>/dev/null)" \
  "pgloader" "${pgl_version:-not installed}${PGLOADER:+; --dynamic-space-size ${PGL_SPACE/#0/default}, WITH ${PGL_WITH:-(defaults)}}" \
  "ferry" "$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes'), parallel $PARALLEL" \
  "rows" "$SRC_COUNT in $MY_DB.data_fact (${my_size:-?})" \
  "rounds" "$ROUNDS (order alternated each round), contenders: ${CONTENDERS[*]}" \
  "load average" "$LOAD_START before the rounds, $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) after (other work on the machine skews the times)"
echo

fmt='%-28s %9s %8s %12s %6s %12s  %-26s %s\n'
# shellcheck disable=SC2059
printf "$fmt" "contender" "median s" "Mrows/s" "vs pgloader" "cpu s" "peak RSS MB" "rounds (s)" "check"
# shellcheck disable=SC2059
printf "$fmt" "---------" "--------" "-------" "-----------" "-----" "-----------" "----------" "-----"
for k in p f; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  if [[ -z "${MEDIAN[$k]:-}" ]]; then
    printf '%-28s %s\n' "${LABEL[$k]}" "${FAILED[$k]:-no run}"
    continue
  fi
  med="${MEDIAN[$k]}"
  rate="$(awk -v n="$SRC_COUNT" -v s="$med" 'BEGIN { if (s > 0) printf "%.2f", n / s / 1e6; else printf "-" }')"
  peak="$(peak_kb "$k")"
  cpu_s=""
  # shellcheck disable=SC2086
  [[ -n "${CPU[$k]:-}" ]] && cpu_s="$(median ${CPU[$k]} | awk '{ printf "%.1f", $1 }')"
  # shellcheck disable=SC2059
  printf "$fmt" "${LABEL[$k]}" "$med" "$rate" "$(ratio "$med" "${MEDIAN[p]:-}")" "$cpu_s" \
    "${peak:+$(mb "$peak")}" "${TIMES[$k]}" "${CHECK[$k]:-}"
  if [[ -n "${FAILED[$k]:-}" ]]; then
    printf '%-28s %s\n' "" "(then ${FAILED[$k]} in a later round)"
  fi
done
echo

goal() { if [[ "$1" == 1 ]]; then printf 'met'; else printf 'NOT met'; fi; }
if [[ -n "${MEDIAN[p]:-}" && -n "${MEDIAN[f]:-}" ]]; then
  speedup="$(awk -v p="${MEDIAN[p]}" -v f="${MEDIAN[f]}" 'BEGIN { if (f > 0) printf "%.2f", p / f; else printf "0" }')"
  ok="$(awk -v s="$speedup" 'BEGIN { print (s >= 2) ? 1 : 0 }')"
  echo "ferry vs pgloader: ${speedup}x (pgloader median / ferry median, above 1 = ferry faster; goal >= 2x: $(goal "$ok"))"
elif [[ " ${CONTENDERS[*]} " == *" p "* && " ${CONTENDERS[*]} " == *" f "* ]]; then
  echo "ferry vs pgloader: n/a (${FAILED[p]:-${FAILED[f]:-no median}})"
fi
for k in f p; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  name=ferry
  [[ "$k" == p ]] && name=pgloader
  peak="$(peak_kb "$k")"
  if [[ -z "$peak" ]]; then
    echo "$name peak RSS: n/a (no successful run)"
    continue
  fi
  line="$name peak RSS: $(mb "$peak") MB"
  if [[ "$k" == f ]]; then
    ok="$(awk -v k="$peak" 'BEGIN { print (k < 300 * 1024) ? 1 : 0 }')"
    line+=" (goal < 300 MB: $(goal "$ok"))"
  fi
  # shellcheck disable=SC2086
  echo "$line  (max over $(wc -w <<<"${RSS_TREE[$k]}") round(s); $(peak_detail "$k"))"
done

# One line per contender for bench/run-all (only when BENCH_RESULTS is set).
declare -A ROLE=([p]=ref [f]=ferry)
for k in p f; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  check="${CHECK[$k]:-}"
  if [[ -z "${MEDIAN[$k]:-}" ]]; then
    check="${FAILED[$k]:-no run}"
  elif [[ -n "${FAILED[$k]:-}" ]]; then
    check="${check:+$check; }then ${FAILED[$k]}"
  fi
  emit_result mysql-pg "$k" "${ROLE[$k]}" "$(label_text "${LABEL[$k]}")" "${MEDIAN[$k]:-}" "${TIMES[$k]:-}" "$(peak_kb "$k")" \
    "$SRC_COUNT" "$check"
done
