# shellcheck shell=bash
# Helpers for the bench/ scripts. Source it; it defines functions only, apart
# from defaulting the libpq environment (PGHOST, PGPORT, PGUSER).

export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
warn() { printf '[bench %(%H:%M:%S)T] WARNING: %s\n' -1 "$*" >&2; }

# psql that never reads ~/.psqlrc, is quiet and stops at the first error.
# Usage: pg DB [psql args...]
pg() {
  local db="$1"
  shift
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# One value, unaligned, no header. Usage: pg_val DB SQL
pg_val() { pg "$1" -At -c "$2"; }

# Current time in seconds with microseconds (bash 5 $EPOCHREALTIME).
now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }

# Seconds between two now() values, 3 decimals. Usage: elapsed T0 T1
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Median of the numbers given as arguments (mean of the middle two if even).
median() {
  printf '%s\n' "$@" | sort -g | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) exit 1
      if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
      else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

# a / b formatted as "1.23x", or "-" when either is missing or b is zero.
ratio() {
  if [[ -z "${1:-}" || -z "${2:-}" ]]; then
    printf -- '-'
    return
  fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) printf "-"; else printf "%.2fx", a / b }'
}

db_exists() {
  [[ "$(pg_val postgres "SELECT 1 FROM pg_database WHERE datname = '$1'")" == 1 ]]
}

ensure_db() {
  if ! db_exists "$1"; then
    log "creating database $1"
    pg postgres -c "CREATE DATABASE \"$1\"" || return 1
  fi
}

# DDL of the benchmark table. Usage: data_fact_ddl [pk|nopk]
data_fact_ddl() {
  local pk=""
  [[ "${1:-pk}" == pk ]] && pk=" PRIMARY KEY"
  cat <<SQL
CREATE TABLE public.data_fact (
  uuid uuid${pk},
  "timestamp" timestamptz,
  value double precision,
  fuel_id int,
  region_id int,
  power_id int,
  date_id int,
  time_id int
)
SQL
}

# Row count of public.data_fact in DB, or empty if the table is missing.
data_fact_count() {
  local exists
  exists="$(pg_val "$1" "SELECT to_regclass('public.data_fact') IS NOT NULL" 2>/dev/null)" || return 1
  [[ "$exists" == t ]] || return 1
  pg_val "$1" "SELECT count(*) FROM public.data_fact"
}

# "t" if public.data_fact in DB has a primary key.
data_fact_has_pk() {
  pg_val "$1" "SELECT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = to_regclass('public.data_fact') AND contype = 'p')" 2>/dev/null
}

drop_data_fact() { pg "$1" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS public.data_fact"; }

# Flush dirty buffers so one contender's writes are not paid by the next.
checkpoint() { pg postgres -c "CHECKPOINT" >/dev/null 2>&1 || true; }

# Warns when contender $1 (ferry) would run stale or missing built code (dist/ older than src/).
warn_if_stale_build() {
  local contender="$1"
  if [[ ! -f "$FERRY_BIN" ]]; then
    warn "$FERRY_BIN does not exist (yet): contender $contender will fail"
  elif [[ "$FERRY_BIN" == bin/ferry.js && -d src ]]; then
    local newest_src newest_dist
    newest_src="$(find src -type f -printf '%T@\n' 2>/dev/null | sort -n | tail -1)"
    newest_dist="$(find dist -type f -printf '%T@\n' 2>/dev/null | sort -n | tail -1)"
    if [[ -z "$newest_dist" ]] || awk -v s="${newest_src:-0}" -v d="$newest_dist" 'BEGIN { exit !(s > d) }'; then
      warn "dist/ is missing or older than src/: run 'npm run build' first to bench the current code"
    fi
  fi
}

# ferry's own default of defaults.parallel on this machine (from the built code; 4 when there is none),
# so a script that is not told FERRY_PARALLEL measures what a user gets without setting it.
ferry_default_parallel() {
  node --input-type=module -e "const m = await import('./dist/config/job-schema.js'); console.log(m.DEFAULT_PARALLEL)" 2>/dev/null || echo 4
}

# Largest of some KB figures, and KB -> MB with one decimal.
kb_max() { printf '%s\n' "$@" | sort -n | tail -1; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# A PostgreSQL server setting (for the report header).
pg_setting() { pg_val postgres "SELECT current_setting('$1')" 2>/dev/null; }

# Shared by the scripts that sample memory: they set WORK, GNU_TIME, TO (a timeout prefix, maybe
# empty), RSS_INTERVAL_MS and the associative arrays RSS_TREE, RSS_HWM, RSS_GNU and CPU.
#
# Runs a command under bench/peak-rss.mjs (wall time from spawn to exit, and
# the memory of its process tree), with GNU time inside when available. Sets
# RUN_RC and RUN_SECS and, on success, appends the memory and CPU figures of
# contender $1. Usage: measured CONTENDER ROUND command [args...]
measured() {
  local c="$1" round="$2"
  shift 2
  local json="$WORK/rss.$c.$round.json" gnu="$WORK/gnutime.$c.$round"
  local cmd=("$@")
  [[ -n "$GNU_TIME" ]] && cmd=("$GNU_TIME" -f '%M %U %S' -o "$gnu" "${cmd[@]}")
  local t0 t1
  t0="$(now)"
  # stdin from /dev/null: a pgloader that lands in the Lisp debugger exits instead of waiting.
  "${TO[@]}" node bench/peak-rss.mjs --out "$json" --interval-ms "$RSS_INTERVAL_MS" -- "${cmd[@]}" </dev/null
  RUN_RC=$?
  t1="$(now)"
  RUN_SECS="$(elapsed "$t0" "$t1")"
  if [[ -s "$json" ]]; then
    local fields
    fields="$(node -e '
      const r = require(process.argv[1]);
      console.log([r.wallSeconds.toFixed(3), r.peakTreeRssKb, r.peakSingleHwmKb].join(" "));
    ' "$json" 2>/dev/null)"
    if [[ -n "$fields" ]]; then
      local wall tree hwm
      read -r wall tree hwm <<<"$fields"
      RUN_SECS="$wall"
      if ((RUN_RC == 0)); then
        RSS_TREE[$c]+="${RSS_TREE[$c]:+ }$tree"
        RSS_HWM[$c]+="${RSS_HWM[$c]:+ }$hwm"
      fi
    fi
  fi
  if ((RUN_RC == 0)) && [[ -s "$gnu" ]]; then
    local kb user sys
    read -r kb user sys < <(tail -n 1 "$gnu")
    [[ "$kb" =~ ^[0-9]+$ ]] && RSS_GNU[$c]+="${RSS_GNU[$c]:+ }$kb"
    [[ "$user" =~ ^[0-9.]+$ && "$sys" =~ ^[0-9.]+$ ]] &&
      CPU[$c]+="${CPU[$c]:+ }$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')"
  fi
}

# Peak memory of contender $1 over its rounds (KB), and how each figure was taken.
peak_kb() {
  local c="$1"
  [[ -n "${RSS_TREE[$c]:-}" ]] || return 0
  # shellcheck disable=SC2086
  kb_max ${RSS_TREE[$c]} ${RSS_HWM[$c]} ${RSS_GNU[$c]:-}
}
peak_detail() {
  local c="$1"
  local d
  # shellcheck disable=SC2086
  d="process tree sampled every ${RSS_INTERVAL_MS} ms: $(mb "$(kb_max ${RSS_TREE[$c]})") MB; largest single-process VmHWM: $(mb "$(kb_max ${RSS_HWM[$c]})") MB"
  # shellcheck disable=SC2086
  [[ -n "${RSS_GNU[$c]:-}" ]] && d+="; GNU time maxrss: $(mb "$(kb_max ${RSS_GNU[$c]})") MB"
  printf '%s' "$d"
}

# A contender's run failed: it is left out of the later rounds, and the end of its output is shown.
# Usage: record_failure CONTENDER LOGFILE (uses RUN_RC, RUN_SECS, FAILED).
record_failure() {
  local c="$1" logf="$2"
  FAILED[$c]="FAILED (exit $RUN_RC)"
  warn "$c: ${FAILED[$c]} after ${RUN_SECS:-?} s; last lines of its output:"
  tail -n 15 "$logf" | sed 's/^/    | /' >&2
}

# ROUNDS rounds of every contender not failed yet, calling `run_one CONTENDER ROUND`; the order
# rotates each round so no contender always runs first or last.
run_rounds() {
  local n=${#CONTENDERS[@]} r k c order
  for ((r = 1; r <= ROUNDS; r++)); do
    order=()
    for ((k = 0; k < n; k++)); do order+=("${CONTENDERS[(r - 1 + k) % n]}"); done
    log "round $r/$ROUNDS order: ${order[*]}"
    for c in "${order[@]}"; do
      [[ -n "${FAILED[$c]:-}" ]] && continue
      run_one "$c" "$r"
    done
  done
}

# The PostgreSQL data_fact source of the scripts (SRC_DB, ROWS) is bench/pg-to-pg.sh's table; that script (with BENCH_ROUNDS=0)
# rebuilds it whenever its row count is not ROWS or it has no primary key.
prepare_pg_data_fact() {
  local have pk
  have="$(data_fact_count "$SRC_DB" 2>/dev/null)" || have=""
  pk="$(data_fact_has_pk "$SRC_DB" 2>/dev/null)" || pk=""
  if [[ "$have" == "$ROWS" && "$pk" == t ]]; then
    log "source $SRC_DB.public.data_fact already holds $ROWS rows"
    return 0
  fi
  log "$SRC_DB.public.data_fact has ${have:-no table} rows (want $ROWS${have:+, primary key: ${pk:-?}}): rebuilding it with bench/pg-to-pg.sh"
  BENCH_ROWS="$ROWS" BENCH_ROUNDS=0 BENCH_KEEP=0 bash bench/pg-to-pg.sh >&2 || return 1
  have="$(data_fact_count "$SRC_DB" 2>/dev/null)" || have=""
  if [[ "$have" != "$ROWS" ]]; then
    echo "bench: $SRC_DB.public.data_fact has ${have:-no table} rows after preparing, expected $ROWS" >&2
    return 1
  fi
}

# Exits 2 unless each named variable holds a whole number. Usage: require_whole_numbers ROWS ROUNDS ...
require_whole_numbers() {
  local v
  for v in "$@"; do
    if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
      echo "bench: $v must be a whole number, got '${!v}'" >&2
      exit 2
    fi
  done
}

# Sets TO (a `timeout` prefix when TIMEOUT > 0) and GNU_TIME (GNU time's path, or empty: it is
# optional, as memory is also sampled from /proc; BENCH_GNU_TIME=0 turns it off).
set_timeout_and_gnu_time() {
  TO=()
  ((TIMEOUT > 0)) && TO=(timeout --kill-after=30 "$TIMEOUT")
  GNU_TIME=""
  if [[ "${BENCH_GNU_TIME:-1}" == 1 ]]; then
    GNU_TIME="$(type -P time)" || GNU_TIME=""
    if [[ -n "$GNU_TIME" ]] && ! "$GNU_TIME" --version 2>&1 | grep -q GNU; then GNU_TIME=""; fi
  fi
  return 0
}

# Machine-readable results for bench/run-all. When BENCH_RESULTS names a file, appends one
# tab-separated line per contender (a field left empty is written as "-"):
#   workload  id  role  label  median_s  rounds_s  peak_rss_kb  rows  check
# workload: a short name shared by the contenders compared with each other (pg-pg, mysql-mysql, ...);
# role: `ref` for the one row the workload's ratios divide by, `ferry` for a ferry run, `tool` for
# any other contender; rounds_s: each successful round's seconds, space-separated; check: `ok`,
# what was wrong, or `FAILED (exit N)` (then median_s is "-").
# Usage: emit_result WORKLOAD ID ROLE LABEL MEDIAN_S "ROUNDS_S" PEAK_RSS_KB ROWS CHECK
# The reference "b" of the PostgreSQL scripts: the calling script's pipe_binary into an unindexed
# table, then ADD PRIMARY KEY, timed together. Sets RUN_RC, RUN_B1 (the copy), RUN_B2 (the key) and
# RUN_SECS. Usage: copy_then_add_pk DB TABLE KEY_COLUMNS
copy_then_add_pk() {
  local db="$1" table="$2" key="$3" t0 t1 t2
  t0="$(now)"
  pipe_binary
  RUN_RC=$?
  t1="$(now)"
  if ((RUN_RC == 0)); then
    "${TO[@]}" psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "ALTER TABLE $table ADD PRIMARY KEY ($key)"
    RUN_RC=$?
  fi
  t2="$(now)"
  RUN_B1="$(elapsed "$t0" "$t1")"
  RUN_B2="$(elapsed "$t1" "$t2")"
  RUN_SECS="$(elapsed "$t0" "$t2")"
}

# Sets WORK to a new temp folder with logs/ and the subfolders named, removed at exit unless
# BENCH_KEEP=1 (then its path is logged); Ctrl-C exits 130. Usage: make_work_dir PREFIX [SUBDIR...]
make_work_dir() {
  local prefix="$1" d
  shift
  WORK="$(mktemp -d -t "$prefix.XXXXXX")" || exit 1
  mkdir -p "$WORK/logs" || exit 1
  for d in "$@"; do mkdir -p "$WORK/$d" || exit 1; done
  trap remove_work_dir EXIT
  trap 'exit 130' INT TERM
}
remove_work_dir() {
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}

# A report label without its contender id: "b1 binary COPY (no index)" -> "binary COPY (no index)".
label_text() { sed -E 's/^ *[a-z][a-z0-9+]* +//' <<<"$1"; }

emit_result() {
  [[ -n "${BENCH_RESULTS:-}" ]] || return 0
  local f out=()
  for f in "$@"; do out+=("${f:--}"); done
  (
    IFS=$'\t'
    printf '%s\n' "${out[*]}"
  ) >>"$BENCH_RESULTS"
}
