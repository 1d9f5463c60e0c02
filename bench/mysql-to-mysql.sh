#!/usr/bin/env bash
# MariaDB/MySQL -> MariaDB/MySQL copy benchmark: ferry against mariadb-dump | mariadb and
# mydumper + myloader, on one server (source and targets are databases of the same server).
#
#   bash bench/mysql-to-mysql.sh
#   MY_SRC_DB=ferry_bench_my_small BENCH_ROWS=200000 BENCH_ROUNDS=1 bash bench/mysql-to-mysql.sh   # quick try
#
# The source is ferry_bench_my.data_fact, the table bench/mysql-to-pg.sh builds (5,183,352 rows);
# when it does not hold BENCH_ROWS rows with a primary key, `BENCH_ROUNDS=0 bash bench/mysql-to-pg.sh`
# rebuilds it. With MY_SRC_DB naming another database, that database's data_fact is filled with
# the first BENCH_ROWS rows (by uuid) of ferry_bench_my.data_fact instead, which is left as it is.
# Contenders, each into a database of its own (dropped and created again before each run):
#   d  mariadb-dump --single-transaction SRC data_fact | mariadb DST           (ferry_bench_my2my_d)
#   m  mydumper --threads 2 into a temp dir, then myloader --threads 2 (the reference; sub-rows
#      m1 dump and m2 load)                                                    (ferry_bench_my2my_m)
#   f  node bin/ferry.js run --fresh --no-progress <job>, mode full-refresh      (ferry_bench_my2my_f)
# After each run the target must hold the source's row count, have a primary key and the same
# content (CHECKSUM TABLE, or when that differs a CRC32 sum over every column's text); otherwise a
# WARNING is printed, the check column says what differed, and the script exits 3 at the end.
# A contender whose command fails is shown as "FAILED (exit N)", skipped in later rounds, and also
# makes the script exit 3. Other exits: 1 when the data cannot be prepared (a server unreachable),
# 2 for a bad environment variable. See bench/README.md for what each line means.
#
# Environment (all optional):
#   MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PWD
#                           the server (default 127.0.0.1, 3306, root, no password)
#   PGHOST PGPORT PGUSER    PostgreSQL, only to (re)build ferry_bench_my.data_fact (see above)
#   MY_SRC_DB               source database (default ferry_bench_my); another name gets a copy of
#                           BENCH_ROWS rows of ferry_bench_my.data_fact (for quick tries)
#   BENCH_ROWS              rows in the source table (default 5183352)
#   BENCH_ROUNDS            rounds; each round runs every contender once (default 3);
#                           0 only prepares the source table
#   BENCH_CONTENDERS        which contenders: d m f (default "d m f")
#   BENCH_CHECK_CONTENT     1/0: compare every target's content with the source's (default 1)
#   MYDUMPER_CHUNK_MB       mydumper --chunk-filesize: the dump is cut into files of about this many
#                           MB so that myloader's 2 threads both have files to load (default 64;
#                           0 = one file, as mydumper 0.10 cannot split a table on a text key)
#   FERRY_PARALLEL          ferry's defaults.parallel in the job file (default: ferry's own default on this machine)
#   FERRY_BIN               ferry's entry point, run with node (default bin/ferry.js)
#   BENCH_TIMEOUT           seconds before one contender run (or part of m) is killed (default 0 = never)
#   BENCH_RSS_INTERVAL_MS   memory sampling interval (default 100)
#   BENCH_GNU_TIME          1/0: also measure memory and CPU with GNU time if present (default 1)
#   BENCH_KEEP              1: keep the temp dir (job file, logs) and the target databases at the end

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/mysql-lib.sh
source bench/mysql-lib.sh

MY_BENCH_DB=ferry_bench_my   # bench/mysql-to-pg.sh's table
MY_SRC_DB="${MY_SRC_DB:-$MY_BENCH_DB}"
ROWS="${BENCH_ROWS:-5183352}"
ROUNDS="${BENCH_ROUNDS:-3}"
PARALLEL="${FERRY_PARALLEL:-$(ferry_default_parallel)}"
FERRY_BIN="${FERRY_BIN:-bin/ferry.js}"
TIMEOUT="${BENCH_TIMEOUT:-0}"
RSS_INTERVAL_MS="${BENCH_RSS_INTERVAL_MS:-100}"
CHECK_CONTENT="${BENCH_CHECK_CONTENT:-1}"
CHUNK_MB="${MYDUMPER_CHUNK_MB:-64}"
BENCH_CONTENDERS="${BENCH_CONTENDERS:-d m f}"
read -r -a CONTENDERS <<<"${BENCH_CONTENDERS//,/ }"

require_whole_numbers ROWS ROUNDS PARALLEL TIMEOUT RSS_INTERVAL_MS CHUNK_MB
[[ "$CHECK_CONTENT" =~ ^[01]$ ]] || { echo "bench: BENCH_CHECK_CONTENT must be 0 or 1, got '$CHECK_CONTENT'" >&2; exit 2; }
if ! [[ "$MY_SRC_DB" =~ ^[A-Za-z0-9_]+$ ]]; then
  echo "bench: MY_SRC_DB must be a plain database name (letters, digits, _), got '$MY_SRC_DB'" >&2
  exit 2
fi
for c in "${CONTENDERS[@]}"; do
  [[ "$c" =~ ^[dmf]$ ]] || { echo "bench: unknown contender '$c' (use d m f)" >&2; exit 2; }
done
if [[ -z "$MY_CLIENT" ]]; then
  echo "bench: neither the mariadb nor the mysql client is installed (apt-get install mariadb-client)" >&2
  exit 1
fi

declare -A LABEL=(
  [d]="d  $(basename "${MY_DUMP:-mariadb-dump}") | $(basename "$MY_CLIENT")"
  [m]="m  mydumper + myloader (2 thr)"
  [m1]="     m1 mydumper --threads 2"
  [m2]="     m2 myloader --threads 2"
  [f]="f  ferry run (parallel $PARALLEL)"
)
declare -A TARGET_DB=([d]=ferry_bench_my2my_d [m]=ferry_bench_my2my_m [f]=ferry_bench_my2my_f)
declare -A ROLE=([d]=tool [m]=ref [m1]=tool [m2]=tool [f]=ferry)
declare -A TIMES=()   # contender (and m1, m2) -> "secs secs ..." (one per successful round)
declare -A FAILED=()  # contender -> "FAILED (exit N)" or why it did not run
declare -A CHECK=()   # contender -> "ok" or what was wrong
declare -A RSS_TREE=() RSS_HWM=() RSS_GNU=()  # contender -> "kb kb ..." (successful rounds)
declare -A CPU=()     # contender -> "secs secs ..." user+system CPU of its own processes (GNU time)
declare -A SRV=()     # contender -> "secs secs ..." CPU the server used during the run (/proc)
BAD=0                 # 1 once a run failed or a check did not pass
DUMP_INFO=""          # files and size of m's last dump

set_timeout_and_gnu_time

MYDUMPER="$(type -P mydumper || true)"
MYLOADER="$(type -P myloader || true)"
if [[ " ${CONTENDERS[*]} " == *" m "* && (-z "$MYDUMPER" || -z "$MYLOADER") ]]; then
  warn "mydumper/myloader not installed (apt-get install mydumper)"
  FAILED[m]="mydumper/myloader not installed (apt-get install mydumper)"
fi
if [[ " ${CONTENDERS[*]} " == *" d "* && -z "$MY_DUMP" ]]; then
  warn "neither mariadb-dump nor mysqldump is installed (apt-get install mariadb-client)"
  FAILED[d]="mariadb-dump/mysqldump not installed"
fi

WORK="$(mktemp -d -t ferry-bench-my2my.XXXXXX)" || exit 1
mkdir -p "$WORK/logs" "$WORK/f" "$WORK/m"
cleanup() {
  local c dbs=()
  for c in "${CONTENDERS[@]}"; do dbs+=("${TARGET_DB[$c]}"); done
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
    log "kept $WORK and databases ${dbs[*]}"
  else
    rm -rf "$WORK"
    for c in "${dbs[@]}"; do my_drop_db "$c" >/dev/null 2>&1 || true; done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

JOB="$WORK/f/job.yaml"
cat >"$JOB" <<YAML
source: $(my_url "$MY_SRC_DB")
target: $(my_url "${TARGET_DB[f]}")
defaults:
  mode: full-refresh
  parallel: ${PARALLEL}
streams:
  ${MY_SRC_DB}.data_fact: { target: ${TARGET_DB[f]}.data_fact }
YAML

# mydumper/myloader take the password as an option (they have no --no-defaults either).
MYD_CONN=(-h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER")
[[ -n "${MYSQL_PWD:-}" ]] && MYD_CONN+=(-p "$MYSQL_PWD")

# ---------------------------------------------------------------- prepare ---

# "rows,pk" of DB.data_fact, e.g. "200000,t" (empty rows when the table is missing).
source_state() {
  local have pk
  have="$(my_data_fact_count "$1" 2>/dev/null)" || have=""
  pk="$(my_data_fact_has_pk "$1" 2>/dev/null)" || pk=""
  printf '%s,%s' "$have" "$pk"
}

# ferry_bench_my.data_fact, rebuilt by bench/mysql-to-pg.sh (from PostgreSQL's ferry_bench_src)
# when it does not hold exactly $1 rows with a primary key.
prepare_bench_db() {
  local want="$1" have pk
  IFS=, read -r have pk <<<"$(source_state "$MY_BENCH_DB")"
  [[ "$have" == "$want" && "$pk" == t ]] && return 0
  log "$MY_BENCH_DB.data_fact has ${have:-no table} rows (want $want${have:+, primary key: ${pk:-?}}): rebuilding it with bench/mysql-to-pg.sh"
  BENCH_ROWS="$want" BENCH_ROUNDS=0 BENCH_KEEP=0 bash bench/mysql-to-pg.sh >&2 || return 1
  IFS=, read -r have pk <<<"$(source_state "$MY_BENCH_DB")"
  if [[ "$have" != "$want" ]]; then
    echo "bench: $MY_BENCH_DB.data_fact has ${have:-no table} rows after preparing, expected $want" >&2
    return 1
  fi
}

prepare_source() {
  local have pk
  IFS=, read -r have pk <<<"$(source_state "$MY_SRC_DB")"
  if [[ "$have" == "$ROWS" && "$pk" == t ]]; then
    log "source $MY_SRC_DB.data_fact already holds $ROWS rows"
    return 0
  fi
  if [[ "$MY_SRC_DB" == "$MY_BENCH_DB" ]]; then
    prepare_bench_db "$ROWS"
    return
  fi
  # Another database: a copy of the first ROWS rows of ferry_bench_my.data_fact, which must hold
  # at least that many (it is only ever grown here, never shrunk).
  local bench_rows
  IFS=, read -r bench_rows _ <<<"$(source_state "$MY_BENCH_DB")"
  if [[ -z "$bench_rows" ]] || ((bench_rows < ROWS)); then
    prepare_bench_db "$ROWS" || return 1
  fi
  log "filling $MY_SRC_DB.data_fact with the first $ROWS rows of $MY_BENCH_DB.data_fact (found: ${have:-no table})"
  my_ensure_db "$MY_SRC_DB" || return 1
  my "$MY_SRC_DB" -e "DROP TABLE IF EXISTS data_fact;
    CREATE TABLE data_fact LIKE \`$MY_BENCH_DB\`.data_fact;
    INSERT INTO data_fact SELECT * FROM \`$MY_BENCH_DB\`.data_fact ORDER BY uuid LIMIT $ROWS;
    ANALYZE TABLE data_fact" >/dev/null || return 1
  IFS=, read -r have pk <<<"$(source_state "$MY_SRC_DB")"
  if [[ "$have" != "$ROWS" || "$pk" != t ]]; then
    echo "bench: $MY_SRC_DB.data_fact has ${have:-no table} rows (primary key: ${pk:-?}) after filling, expected $ROWS" >&2
    return 1
  fi
}

if ! my_val "" "SELECT 1" >/dev/null; then
  echo "bench: cannot reach MySQL/MariaDB at $MYSQL_HOST:$MYSQL_PORT as $MYSQL_USER" >&2
  exit 1
fi
prepare_source || { echo "bench: preparing the source failed" >&2; exit 1; }
SRC_COUNT="$(my_data_fact_count "$MY_SRC_DB")" || { echo "bench: cannot count the source" >&2; exit 1; }
if ((ROUNDS == 0)); then
  log "BENCH_ROUNDS=0: source prepared ($SRC_COUNT rows in $MY_SRC_DB.data_fact), nothing timed"
  exit 0
fi
if [[ " ${CONTENDERS[*]} " == *" f "* ]]; then
  warn_if_stale_build f
fi

SRC_COLS="$(my_columns "$MY_SRC_DB" data_fact)"
SRC_SUM=""
SRC_PRINT=""
if [[ "$CHECK_CONTENT" == 1 ]]; then
  log "content of the source: CHECKSUM TABLE and CRC32 fingerprint"
  SRC_SUM="$(my_checksum "$MY_SRC_DB" data_fact)" || SRC_SUM=""
  SRC_PRINT="$(my_fingerprint "$MY_SRC_DB" data_fact "$SRC_COLS")" ||
    { echo "bench: cannot fingerprint the source" >&2; exit 1; }
fi

# ------------------------------------------------------------ contenders ---

# Before each run (not timed, in run_one): the contender's database is dropped and created again
# (so its table, and for ferry the _ferry_chunks ledger and any staging table, are gone), and
# InnoDB is given a moment to write back dirty pages (settle). Each run_X sets RUN_RC and RUN_SECS.

# Waits (at most 20 s) while more than 10% of the buffer pool is dirty, so that one contender's
# writes are not all flushed on the next one's clock. It only reads status and changes no setting,
# so it cannot wait for an empty pool: other sessions on the server keep writing.
settle() {
  local i dirty total
  for ((i = 0; i < 40; i++)); do
    read -r dirty total <<<"$(my_val "" "SELECT
        MAX(IF(VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY', VARIABLE_VALUE, NULL)),
        MAX(IF(VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_TOTAL', VARIABLE_VALUE, NULL))
      FROM information_schema.GLOBAL_STATUS
      WHERE VARIABLE_NAME IN ('INNODB_BUFFER_POOL_PAGES_DIRTY', 'INNODB_BUFFER_POOL_PAGES_TOTAL')" 2>/dev/null)"
    [[ "$dirty" =~ ^[0-9]+$ && "$total" =~ ^[0-9]+$ ]] || return 0
    ((dirty * 10 <= total)) && return 0
    sleep 0.5
  done
  log "  (InnoDB still has $dirty dirty pages of $total after 20 s; timing anyway)"
}

# Runs a measured command and adds the server's CPU over it to SRV_SECS.
# Usage: measured_srv CONTENDER ROUND command [args...]
measured_srv() {
  local t0 t1
  t0="$(my_server_ticks)"
  measured "$@"
  t1="$(my_server_ticks)"
  SRV_SECS="$(awk -v a="${SRV_SECS:-0}" -v b="$(my_server_secs "$t0" "$t1")" 'BEGIN { printf "%.1f", a + b }')"
  [[ -n "$t0" && -n "$t1" ]] || SRV_SECS=""
  if [[ "$1" == m1 || "$1" == m2 ]] && ((RUN_RC == 0)); then
    SRV[$1]+="${SRV[$1]:+ }$(my_server_secs "$t0" "$t1")"
  fi
}

# d: the dump is piped straight into the client; bash -c so that GNU time and the memory
# sampler see the whole pipeline.
run_d() {
  # shellcheck disable=SC2016 # $1, $2, ... expand in the inner bash
  measured_srv d "$1" bash -c 'set -o pipefail
    dump="$1" client="$2" src="$3" dst="$4"
    shift 4
    "$dump" "$@" --single-transaction "$src" data_fact | "$client" "$@" "$dst"' \
    _ "$MY_DUMP" "$MY_CLIENT" "$MY_SRC_DB" "${TARGET_DB[d]}" "${MY_CONN_ARGS[@]}"
}

# m: mydumper into an empty folder, then myloader from it; the two are timed apart (sub-rows m1
# and m2) and added up. The dump folder is deleted before and after, not timed.
run_m() {
  local round="$1" dir="$WORK/m/dump" secs1 secs2
  rm -rf "$dir"
  local chunk=()
  ((CHUNK_MB > 0)) && chunk=(--chunk-filesize "$CHUNK_MB")
  echo "== mydumper"
  measured_srv m1 "$round" "$MYDUMPER" "${MYD_CONN[@]}" --threads 2 --trx-consistency-only "${chunk[@]}" \
    --database "$MY_SRC_DB" --tables-list data_fact --outputdir "$dir"
  secs1="$RUN_SECS"
  if ((RUN_RC == 0)); then
    RUN_M1="$secs1"
    DUMP_INFO="$(find "$dir" -name '*.sql' ! -name '*-schema*' | wc -l) data files, $(du -sb "$dir" | awk '{ printf "%.1f MiB", $1 / 1048576 }')"
    echo "== dump: $DUMP_INFO"
    echo "== myloader"
    measured_srv m2 "$round" "$MYLOADER" "${MYD_CONN[@]}" --threads 2 \
      --directory "$dir" --database "${TARGET_DB[m]}"
    secs2="$RUN_SECS"
    ((RUN_RC == 0)) && RUN_M2="$secs2"
    RUN_SECS="$(awk -v a="$secs1" -v b="$secs2" 'BEGIN { printf "%.3f", a + b }')"
  fi
  rm -rf "$dir"
  ((RUN_RC == 0)) || return
  # m's own figures per round: CPU added up, memory the larger of the two parts.
  local k
  [[ -n "${CPU[m1]:-}" && -n "${CPU[m2]:-}" ]] &&
    CPU[m]+="${CPU[m]:+ }$(awk -v a="${CPU[m1]##* }" -v b="${CPU[m2]##* }" 'BEGIN { printf "%.1f", a + b }')"
  for k in RSS_TREE RSS_HWM RSS_GNU; do
    local -n arr="$k"
    [[ -n "${arr[m1]:-}" && -n "${arr[m2]:-}" ]] &&
      arr[m]+="${arr[m]:+ }$(kb_max "${arr[m1]##* }" "${arr[m2]##* }")"
    unset -n arr
  done
}

# f: a fresh full refresh (no .ferry/ state, an empty target database).
run_f() {
  rm -rf "$WORK/f/.ferry"
  measured_srv f "$1" node "$FERRY_BIN" run --fresh --no-progress "$JOB"
}

# Row count, primary key and content of the contender's target after a successful run.
check_target() {
  local c="$1" db="${TARGET_DB[$1]}" got pk notes=()
  got="$(my_data_fact_count "$db" 2>/dev/null)" || got=""
  if [[ "$got" != "$SRC_COUNT" ]]; then
    notes+=("rows ${got:-none}!=$SRC_COUNT")
  fi
  pk="$(my_data_fact_has_pk "$db")" || pk=""
  [[ "$pk" == t || -z "$got" ]] || notes+=("no PK")
  if [[ "$CHECK_CONTENT" == 1 && "$got" == "$SRC_COUNT" ]]; then
    local sum print
    sum="$(my_checksum "$db" data_fact 2>/dev/null)" || sum=""
    # CHECKSUM TABLE covers the stored rows, so other column definitions (NULL-ness, a type)
    # change it even when the values are equal: then the values themselves are compared.
    if [[ -z "$SRC_SUM" || "$sum" != "$SRC_SUM" ]]; then
      print="$(my_fingerprint "$db" data_fact "$SRC_COLS" 2>/dev/null)" || print=""
      if [[ "$print" != "$SRC_PRINT" ]]; then
        notes+=("content differs")
      elif [[ -n "$SRC_SUM" ]]; then
        log "  $c: CHECKSUM TABLE differs from the source's, but every column's text is the same"
      fi
    fi
  fi
  local note="ok"
  ((${#notes[@]})) && note="${notes[*]}"
  if [[ "$note" != ok ]]; then
    BAD=1
    warn "$c: CHECK FAILED: $db.data_fact: $note (source: $SRC_COUNT rows)"
  fi
  if [[ -z "${CHECK[$c]:-}" || "${CHECK[$c]}" == ok ]]; then CHECK[$c]="$note"; fi
}

run_one() {
  local c="$1" round="$2" logf="$WORK/logs/$1.$2.log"
  RUN_RC=0 RUN_SECS="" RUN_M1="" RUN_M2="" SRV_SECS=""
  log "round $round/$ROUNDS: ${LABEL[$c]}"
  if my_recreate_db "${TARGET_DB[$c]}" >"$logf" 2>&1; then
    settle
    "run_$c" "$round" >>"$logf" 2>&1
  else
    RUN_RC=90
  fi
  if ((RUN_RC != 0)); then
    BAD=1
    record_failure "$c" "$logf"
    return
  fi
  TIMES[$c]+="${TIMES[$c]:+ }$RUN_SECS"
  [[ -n "$SRV_SECS" ]] && SRV[$c]+="${SRV[$c]:+ }$SRV_SECS"
  if [[ "$c" == m ]]; then
    TIMES[m1]+="${TIMES[m1]:+ }$RUN_M1"
    TIMES[m2]+="${TIMES[m2]:+ }$RUN_M2"
  fi
  check_target "$c"
  log "  $c: $RUN_SECS s${RUN_M1:+ (dump $RUN_M1 s + load $RUN_M2 s)}${SRV_SECS:+, server CPU $SRV_SECS s}, check ${CHECK[$c]}"
  # Not left behind while the next contender runs (its dirty pages, its disk space); kept, its
  # pages are at least written back now rather than during the next run.
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
    my "" -e "FLUSH TABLES \`${TARGET_DB[$c]}\`.data_fact FOR EXPORT; UNLOCK TABLES" >/dev/null 2>&1
  else
    my_drop_db "${TARGET_DB[$c]}" >/dev/null 2>&1
  fi
}

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
run_rounds
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

# --------------------------------------------------------------- report ---

ROW_KEYS=(d m m1 m2 f)
declare -A MEDIAN=() CPU_MED=() SRV_MED=()
for k in "${ROW_KEYS[@]}"; do
  # shellcheck disable=SC2086
  [[ -n "${TIMES[$k]:-}" ]] && MEDIAN[$k]="$(median ${TIMES[$k]})"
  # shellcheck disable=SC2086
  [[ -n "${CPU[$k]:-}" ]] && CPU_MED[$k]="$(median ${CPU[$k]} | awk '{ printf "%.1f", $1 }')"
  # shellcheck disable=SC2086
  [[ -n "${SRV[$k]:-}" ]] && SRV_MED[$k]="$(median ${SRV[$k]} | awk '{ printf "%.1f", $1 }')"
done

cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
my_var() { my_val "" "SELECT @@$1" 2>/dev/null; }
my_size="$(my_val "" "SELECT CONCAT(ROUND(DATA_LENGTH / 1048576), ' MB data+PK') FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$MY_SRC_DB' AND TABLE_NAME = 'data_fact'" 2>/dev/null)"
version_of() { "$1" --version 2>/dev/null | head -n 1 | sed -E 's/^.*(Ver|Distrib) ([^ ,]+).*$/\2/'; }

echo
echo "== ferry mysql-to-mysql benchmark =="
printf '%-14s %s\n' \
  "date" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  "machine" "nproc $(nproc), ${cpu:-unknown cpu}, ${mem:-? RAM}, $(uname -sr)" \
  "server" "$(my_var version) at $MYSQL_HOST:$MYSQL_PORT (innodb_buffer_pool_size $(($(my_var innodb_buffer_pool_size) / 1048576))MB, innodb_log_file_size $(($(my_var innodb_log_file_size) / 1048576))MB, innodb_flush_log_at_trx_commit $(my_var innodb_flush_log_at_trx_commit), innodb_flush_method $(my_var innodb_flush_method), log_bin $(my_var log_bin))" \
  "clients" "$(basename "${MY_DUMP:-none}") $(version_of "${MY_DUMP:-false}"), $(basename "$MY_CLIENT") $(version_of "$MY_CLIENT"), $("${MYDUMPER:-false}" --version 2>/dev/null | head -n 1 | cut -d, -f1 || true), node $(node --version 2>/dev/null)" \
  "mydumper dump" "${DUMP_INFO:-none made} (--chunk-filesize ${CHUNK_MB/#0/off}; the last dump, in all)" \
  "ferry" "$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes'), parallel $PARALLEL" \
  "rows" "$SRC_COUNT in $MY_SRC_DB.data_fact (${my_size:-?}), copied into ${TARGET_DB[d]%_d}_{d,m,f}" \
  "rounds" "$ROUNDS (order rotated each round), contenders: ${CONTENDERS[*]}" \
  "check" "row count, primary key$([[ "$CHECK_CONTENT" == 1 ]] && echo ', content (CHECKSUM TABLE, else CRC32 of every column)') against the source" \
  "load average" "$LOAD_START before the rounds, $LOAD_END after (other work on the machine skews the times)"
echo

fmt='%-32s %9s %8s %6s %6s %9s %7s  %-26s %s\n'
# shellcheck disable=SC2059
printf "$fmt" "contender" "median s" "Mrows/s" "vs m" "cpu s" "srv cpu s" "RSS MB" "rounds (s)" "check"
# shellcheck disable=SC2059
printf "$fmt" "---------" "--------" "-------" "----" "-----" "---------" "------" "----------" "-----"
rate() { awk -v n="$SRC_COUNT" -v s="$1" 'BEGIN { if (s > 0) printf "%.2f", n / s / 1e6; else printf "-" }'; }
for k in "${ROW_KEYS[@]}"; do
  base="${k:0:1}"
  [[ " ${CONTENDERS[*]} " == *" $base "* ]] || continue
  if [[ -z "${MEDIAN[$k]:-}" ]]; then
    [[ "$k" == m1 || "$k" == m2 ]] && continue
    printf '%-32s %s\n' "${LABEL[$k]}" "${FAILED[$k]:-no run}"
    continue
  fi
  med="${MEDIAN[$k]}"
  peak="$(peak_kb "$k")"
  vs="$(ratio "$med" "${MEDIAN[m]:-}")"
  r="$(rate "$med")" check="${CHECK[$k]:-}"
  if [[ "$k" == m1 || "$k" == m2 ]]; then
    r="" check=""
    vs="$(awk -v p="$med" -v t="${MEDIAN[m]}" 'BEGIN { if (t > 0) printf "%.0f%%", 100 * p / t }')"
  fi
  # shellcheck disable=SC2059
  printf "$fmt" "${LABEL[$k]}" "$med" "$r" "$vs" "${CPU_MED[$k]:-}" "${SRV_MED[$k]:-}" \
    "${peak:+$(mb "$peak")}" "${TIMES[$k]}" "$check"
  if [[ -n "${FAILED[$k]:-}" ]]; then
    printf '%-32s %s\n' "" "(then ${FAILED[$k]} in a later round)"
  fi
done
echo
echo "vs m: median / m's median (m: mydumper + myloader, the reference; for m1 and m2, their share of it)."
echo "ferry vs mydumper/myloader (last line): m's median / f's median, so above 1 means ferry is faster."
echo "cpu s: user+sys of the contender's own processes (GNU time). srv cpu s: CPU of the server process"
echo "(${MY_SERVER_PID:+pid $MY_SERVER_PID, }/proc) during the run, which includes any other work on that server."
for k in d m m1 m2 f; do
  [[ " ${CONTENDERS[*]} " == *" ${k:0:1} "* ]] || continue
  peak="$(peak_kb "$k")"
  [[ -n "$peak" ]] || continue
  echo "${k}: peak RSS $(mb "$peak") MB (max over $(wc -w <<<"${RSS_TREE[$k]}") round(s); $(peak_detail "$k"))"
done
echo

goal() { if [[ "$1" == 1 ]]; then printf 'met'; else printf 'NOT met'; fi; }
if [[ -n "${MEDIAN[m]:-}" && -n "${MEDIAN[f]:-}" ]]; then
  speedup="$(awk -v m="${MEDIAN[m]}" -v f="${MEDIAN[f]}" 'BEGIN { if (f > 0) printf "%.2f", m / f; else printf "0" }')"
  ok="$(awk -v s="$speedup" 'BEGIN { print (s > 1) ? 1 : 0 }')"
  echo "ferry vs mydumper/myloader: ${speedup}x (goal: ferry faster: $(goal "$ok"))"
elif [[ " ${CONTENDERS[*]} " == *" m "* && " ${CONTENDERS[*]} " == *" f "* ]]; then
  echo "ferry vs mydumper/myloader: n/a (${FAILED[m]:-${FAILED[f]:-no median}}) (goal: ferry faster: NOT met)"
fi

# One line per contender for bench/run-all (only when BENCH_RESULTS is set).
for k in "${ROW_KEYS[@]}"; do
  base="${k:0:1}"
  [[ " ${CONTENDERS[*]} " == *" $base "* ]] || continue
  label="$(label_text "${LABEL[$k]}")"
  check="${CHECK[$base]:-}"
  if [[ -z "${MEDIAN[$k]:-}" ]]; then
    check="${FAILED[$base]:-no run}"
  elif [[ -n "${FAILED[$base]:-}" ]]; then
    check="${check:+$check; }then ${FAILED[$base]}"
  fi
  emit_result mysql-mysql "$k" "${ROLE[$k]}" "$label" "${MEDIAN[$k]:-}" "${TIMES[$k]:-}" "$(peak_kb "$k")" \
    "$SRC_COUNT" "$check"
done

if ((BAD)); then
  echo
  echo "bench: FAILED: a run failed or its target does not match the source (see the check column)" >&2
  exit 3
fi
