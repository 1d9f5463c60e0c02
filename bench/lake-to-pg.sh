#!/usr/bin/env bash
# Data lake on local disk -> PostgreSQL: ferry's files source against psql \copy.
#
#   bash bench/lake-to-pg.sh
#   BENCH_ROUNDS=1 BENCH_CONTENDERS="a b" bash bench/lake-to-pg.sh          # quicker try
#   BENCH_LAKE_DIR=/var/tmp/l2p bash bench/lake-to-pg.sh                     # keep the lakes for the next run
#   BENCH_PROFILE="b c" bash bench/lake-to-pg.sh                             # also a CPU profile of b and c
#
# Prepared once (not timed), from ferry_bench_src.public.data_fact (bench/pg-to-pg.sh's table):
#   a Parquet (zstd) lake and a gzip CSV lake written by `ferry run`, and a plain
#   `COPY ... TO STDOUT (FORMAT csv, HEADER) | gzip` file.
# Contenders, each loading all the rows into a new table of database ferry_bench_l2p:
#   a  psql \copy ... from program 'gzip -dc data_fact.csv.gz' (format csv, header), no index
#      (the reference); then, timed apart, ALTER TABLE ... ADD PRIMARY KEY (uuid): row "a+pk"
#   b  ferry, the Parquet lake through its manifest (typed columns; builds the primary key)
#   c  ferry, files: "*.csv.gz" over the plain file: a foreign CSV, types inferred (no key)
#   d  as c, with every column's type set by `columns:` (the source table's types)
#   e  ferry, the gzip CSV lake through its manifest (typed columns; builds the primary key)
# After each load its table must hold the source's row count (and, with BENCH_CHECK_CONTENT=1,
# the same content fingerprint); otherwise a WARNING is printed, the check column says what
# differed, and the script exits 3 at the end. A contender whose command fails is shown as
# "FAILED (exit N)", skipped in later rounds, and also makes the script exit 3.
# Other exits: 1 when the data cannot be prepared, 2 for a bad environment variable.
# See bench/README.md for what each line means.
#
# Environment (all optional):
#   PGHOST PGPORT PGUSER    server to use (default 127.0.0.1, 5432, postgres)
#   BENCH_ROWS              rows in the source table (default 5183352); a table
#                           with another count is rebuilt by bench/pg-to-pg.sh
#   BENCH_ROUNDS            rounds; each round runs every contender once (default 3);
#                           0 only prepares the source table and the lakes
#   BENCH_CONTENDERS        which contenders, e.g. "a b" (default "a b c d e")
#   BENCH_PK                1/0: time ADD PRIMARY KEY after a's load (row a+pk, default 1)
#   BENCH_CHECK_CONTENT     1/0: compare a content fingerprint of every load with the source's (default 1)
#   BENCH_LAKE_DIR          where the lakes and the plain file go (default: in the temp dir, deleted
#                           at the end); when set they are kept there and reused while the
#                           source table is the same (same row count and table oid)
#   BENCH_PROFILE           ferry contenders to run once more after the rounds under
#                           `node --cpu-prof`, printing their top self-time functions (default none)
#   BENCH_PROFILE_TOP       how many functions to print per profile (default 25)
#   GZIP_LEVEL              gzip level of the plain file (default 6)
#   FERRY_PARALLEL          defaults.parallel in the load jobs (default: not set, ferry's default)
#   FERRY_BIN               ferry's entry point, run with node (default bin/ferry.js)
#   BENCH_TIMEOUT           seconds before one contender run is killed (default 0 = never)
#   BENCH_RSS_INTERVAL_MS   memory sampling interval (default 100)
#   BENCH_GNU_TIME          1/0: also measure memory and CPU with GNU time if present (default 1)
#   BENCH_KEEP              1: keep the temp dir (job files, logs, profiles) and the target database
#   TMPDIR                  where the temp dir goes (about 0.7 GB at full size without BENCH_LAKE_DIR)

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
source bench/lib.sh

SRC_DB=ferry_bench_src
DST_DB=ferry_bench_l2p
ROWS="${BENCH_ROWS:-5183352}"
ROUNDS="${BENCH_ROUNDS:-3}"
GZIP_LEVEL="${GZIP_LEVEL:-6}"
PARALLEL="${FERRY_PARALLEL:-}"
FERRY_BIN="${FERRY_BIN:-bin/ferry.js}"
TIMEOUT="${BENCH_TIMEOUT:-0}"
RSS_INTERVAL_MS="${BENCH_RSS_INTERVAL_MS:-100}"
DO_PK="${BENCH_PK:-1}"
CHECK_CONTENT="${BENCH_CHECK_CONTENT:-1}"
PROFILE_TOP="${BENCH_PROFILE_TOP:-25}"
BENCH_CONTENDERS="${BENCH_CONTENDERS:-a b c d e}"
read -r -a CONTENDERS <<<"${BENCH_CONTENDERS//,/ }"
BENCH_PROFILE="${BENCH_PROFILE:-}"
read -r -a PROFILE <<<"${BENCH_PROFILE//,/ }"

require_whole_numbers ROWS ROUNDS TIMEOUT RSS_INTERVAL_MS PROFILE_TOP
if [[ -n "$PARALLEL" ]] && ! [[ "$PARALLEL" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench: FERRY_PARALLEL must be a positive whole number, got '$PARALLEL'" >&2
  exit 2
fi
if ! [[ "$GZIP_LEVEL" =~ ^[1-9]$ ]]; then
  echo "bench: GZIP_LEVEL must be 1-9, got '$GZIP_LEVEL'" >&2
  exit 2
fi
for v in DO_PK CHECK_CONTENT; do
  [[ "${!v}" =~ ^[01]$ ]] || { echo "bench: $v must be 0 or 1, got '${!v}'" >&2; exit 2; }
done
for c in "${CONTENDERS[@]}"; do
  [[ "$c" =~ ^[a-e]$ ]] || { echo "bench: unknown contender '$c' (use a b c d e)" >&2; exit 2; }
done
for c in "${PROFILE[@]}"; do
  [[ "$c" =~ ^[b-e]$ ]] || { echo "bench: BENCH_PROFILE: '$c' is not a ferry contender (use b c d e)" >&2; exit 2; }
done

declare -A LABEL=(
  [a]="a  psql \\copy, gzip -dc"
  [b]="b  ferry parquet lake"
  [c]="c  ferry csv.gz, inferred"
  [d]="d  ferry csv.gz, columns:"
  [e]="e  ferry csv.gz lake"
)
declare -A TIMES=()   # contender -> "secs secs ..." (one per round)
declare -A PK_TIMES=() # a -> "secs ..." ADD PRIMARY KEY after a's load, per round
declare -A FAILED=()  # contender -> "FAILED (exit N)"
declare -A CHECK=()   # contender -> "ok" or what was wrong
declare -A HAS_PK=()  # contender -> t/f: did its table end with a primary key
declare -A RSS_TREE=() RSS_HWM=() RSS_GNU=()  # contender -> "kb kb ..." (successful rounds)
declare -A CPU=()     # contender -> "secs secs ..." user+system CPU of the contender's own processes (GNU time)
BAD=0                 # 1 once any load failed or held the wrong rows

set_timeout_and_gnu_time

WORK="$(mktemp -d -t ferry-bench-l2p.XXXXXX)" || exit 1
LAKE="${BENCH_LAKE_DIR:-$WORK/lakes}"
if [[ "$LAKE" == *"'"* || "$LAKE" == *'"'* ]]; then
  echo "bench: BENCH_LAKE_DIR must not contain quotes, got '$LAKE'" >&2
  exit 2
fi
mkdir -p "$WORK/logs" "$LAKE" || exit 1
LAKE="$(cd "$LAKE" && pwd)"
PLAIN="$LAKE/plain/data_fact.csv.gz"
cleanup() {
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
    log "kept $WORK and database $DST_DB"
  else
    rm -rf "$WORK"
    pg postgres -c "DROP DATABASE IF EXISTS $DST_DB" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PG_URL="postgres://${PGUSER}@${PGHOST}:${PGPORT}"

# ---------------------------------------------------------------- prepare ---


# A fingerprint of a data_fact-shaped table: its row count and a sum of per-row hashes over every
# column (value as float8, so a numeric column of the same numbers gives the same sum).
# Usage: fingerprint DB TABLE
fingerprint() {
  pg_val "$1" "SELECT count(*) || ' ' || coalesce(sum(('x' || left(md5(format('%s|%s|%s|%s|%s|%s|%s|%s',
      uuid, extract(epoch FROM \"timestamp\"), value::float8, fuel_id, region_id, power_id, date_id, time_id)), 15)
    )::bit(60)::bigint), 0) FROM $2"
}

# Rows in the manifest of a ferry lake's stream folder, or empty.
manifest_rows() {
  node -e '
    const fs = require("node:fs");
    try { console.log(JSON.parse(fs.readFileSync(process.argv[1], "utf8")).rows); } catch { console.log(""); }
  ' "$1/public.data_fact/_ferry_manifest.json" 2>/dev/null
}

declare -A PREP_SECS=()  # what -> seconds it took to write (empty when reused)

# ferry dumps the source into lake folder $1 as format $2 with compression $3 (a job file in a
# folder of its own, beside its .ferry/ state).
dump_lake() {
  local name="$1" format="$2" compression="$3" dir="$LAKE/dump-$1" t0 t1
  rm -rf "$dir" "$LAKE/$name"
  mkdir -p "$dir"
  cat >"$dir/job.yaml" <<YAML
source: $PG_URL/$SRC_DB
target: file:$LAKE/$name
defaults:
  format: $format
  compression: $compression
streams:
  public.data_fact: {}
YAML
  log "prepare: ferry writes the $name lake ($format, $compression)"
  t0="$(now)"
  if ! node "$FERRY_BIN" run --fresh --no-progress "$dir/job.yaml" >"$WORK/logs/dump-$name.log" 2>&1 </dev/null; then
    warn "ferry could not write the $name lake; last lines of its output:"
    tail -n 15 "$WORK/logs/dump-$name.log" | sed 's/^/    | /' >&2
    return 1
  fi
  t1="$(now)"
  PREP_SECS[$name]="$(elapsed "$t0" "$t1")"
  local got
  got="$(manifest_rows "$LAKE/$name")"
  if [[ "$got" != "$SRC_COUNT" ]]; then
    echo "bench: the $name lake's manifest says ${got:-nothing} rows, the source has $SRC_COUNT" >&2
    return 1
  fi
}

dump_plain() {
  local t0 t1 lines
  rm -rf "$LAKE/plain"
  mkdir -p "$LAKE/plain"
  log "prepare: psql COPY ... TO STDOUT (FORMAT csv, HEADER) | gzip -$GZIP_LEVEL"
  t0="$(now)"
  psql -X -q -v ON_ERROR_STOP=1 -d "$SRC_DB" -c "COPY public.data_fact TO STDOUT (FORMAT csv, HEADER)" |
    gzip -"$GZIP_LEVEL" >"$PLAIN" || return 1
  t1="$(now)"
  PREP_SECS[plain]="$(elapsed "$t0" "$t1")"
  lines="$(gzip -dc "$PLAIN" | wc -l)"
  if [[ "$lines" != "$((SRC_COUNT + 1))" ]]; then
    echo "bench: $PLAIN holds $lines lines, expected $SRC_COUNT rows and a header" >&2
    return 1
  fi
}

# The lakes and the plain file, written once. With BENCH_LAKE_DIR they are reused while the
# stamp (row count and table oid of the source) is unchanged and each still holds every row.
prepare_lakes() {
  local stamp old=""
  stamp="$SRC_COUNT $(pg_val "$SRC_DB" "SELECT 'public.data_fact'::regclass::oid")"
  [[ -f "$LAKE/source.stamp" ]] && old="$(cat "$LAKE/source.stamp")"
  rm -f "$LAKE/source.stamp"
  if [[ "$old" == "$stamp" && "$(manifest_rows "$LAKE/parquet")" == "$SRC_COUNT" ]]; then
    log "prepare: reusing $LAKE/parquet"
  else
    dump_lake parquet parquet zstd || return 1
  fi
  if [[ "$old" == "$stamp" && "$(manifest_rows "$LAKE/csv")" == "$SRC_COUNT" ]]; then
    log "prepare: reusing $LAKE/csv"
  else
    dump_lake csv csv gzip || return 1
  fi
  if [[ "$old" == "$stamp" && -s "$PLAIN" && -f "$LAKE/plain.ok" ]]; then
    log "prepare: reusing $PLAIN"
  else
    rm -f "$LAKE/plain.ok"
    dump_plain || return 1
    touch "$LAKE/plain.ok"
  fi
  echo "$stamp" >"$LAKE/source.stamp"
}

if ! pg_val postgres "SELECT 1" >/dev/null; then
  echo "bench: cannot reach PostgreSQL at $PGHOST:$PGPORT as $PGUSER" >&2
  exit 1
fi
prepare_pg_data_fact || { echo "bench: preparing the source failed" >&2; exit 1; }
SRC_COUNT="$(data_fact_count "$SRC_DB")" || { echo "bench: cannot count the source" >&2; exit 1; }
if [[ ! -f "$FERRY_BIN" ]]; then
  echo "bench: $FERRY_BIN does not exist: run 'npm run build' first (ferry writes the lakes)" >&2
  exit 1
fi
warn_if_stale_build ferry
prepare_lakes || { echo "bench: preparing the lakes failed" >&2; exit 1; }
if ((ROUNDS == 0)); then
  log "BENCH_ROUNDS=0: source ($SRC_COUNT rows) and lakes in $LAKE prepared, nothing timed"
  [[ -z "${BENCH_LAKE_DIR:-}" ]] && log "(without BENCH_LAKE_DIR they are deleted now)"
  exit 0
fi
SRC_PRINT=""
if [[ "$CHECK_CONTENT" == 1 ]]; then
  log "fingerprint of the source"
  SRC_PRINT="$(fingerprint "$SRC_DB" public.data_fact)" || { echo "bench: cannot fingerprint the source" >&2; exit 1; }
fi

# A target database of its own, new for every invocation (no ledger or staging table left over).
pg postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DST_DB" || exit 1
pg postgres -c "CREATE DATABASE $DST_DB" || exit 1

# ------------------------------------------------------------ contenders ---

# One folder per ferry contender: its job file and its .ferry/ state.
# Usage: write_job CONTENDER SOURCE_DIR STREAM [stream settings lines...]
write_job() {
  local c="$1" src="$2" stream="$3"
  shift 3
  mkdir -p "$WORK/$c"
  {
    echo "source: file:$src"
    echo "target: $PG_URL/$DST_DB"
    if [[ -n "$PARALLEL" ]]; then
      echo "defaults:"
      echo "  parallel: $PARALLEL"
    fi
    echo "streams:"
    echo "  $stream:"
    echo "    target: public.data_fact_$c"
    local line
    for line in "$@"; do echo "    $line"; done
  } >"$WORK/$c/job.yaml"
}
write_job b "$LAKE/parquet" public.data_fact
write_job c "$LAKE/plain" data_fact_c 'files: "*.csv.gz"'
write_job d "$LAKE/plain" data_fact_d 'files: "*.csv.gz"' 'columns:' '  uuid: uuid' \
  '  timestamp: timestamptz' '  value: double precision' '  fuel_id: integer' '  region_id: integer' \
  '  power_id: integer' '  date_id: integer' '  time_id: integer'
write_job e "$LAKE/csv" public.data_fact

# Before every run (not timed): the contender's table is dropped, a CHECKPOINT flushes the
# previous run's dirty pages, and ferry's .ferry/ state is deleted (nothing resumes).

# a: the reference, into a table without any index.
run_a() {
  pg "$DST_DB" -c "$(data_fact_ddl nopk | sed 's/public\.data_fact/public.data_fact_a/')" || return
  checkpoint
  measured a "$1" psql -X -q -v ON_ERROR_STOP=1 -d "$DST_DB" \
    -c "\\copy public.data_fact_a FROM PROGRAM 'gzip -dc $PLAIN' WITH (FORMAT csv, HEADER)"
}

run_ferry() {
  local c="$1" round="$2"
  rm -rf "$WORK/$c/.ferry"
  checkpoint
  measured "$c" "$round" node "$FERRY_BIN" run --fresh --no-progress "$WORK/$c/job.yaml"
}
run_b() { run_ferry b "$1"; }
run_c() { run_ferry c "$1"; }
run_d() { run_ferry d "$1"; }
run_e() { run_ferry e "$1"; }

# Row count (and fingerprint) of the contender's table against the source's.
check_load() {
  local c="$1" table="public.data_fact_$1" got note=ok
  got="$(pg_val "$DST_DB" "SELECT count(*) FROM $table" 2>/dev/null)" || got=""
  if [[ "$got" != "$SRC_COUNT" ]]; then
    note="rows ${got:-none}!=$SRC_COUNT"
  elif [[ "$CHECK_CONTENT" == 1 ]]; then
    local print
    print="$(fingerprint "$DST_DB" "$table" 2>/dev/null)" || print=""
    [[ "$print" == "$SRC_PRINT" ]] || note="content differs"
  fi
  HAS_PK[$c]="$(pg_val "$DST_DB" "SELECT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = to_regclass('$table') AND contype = 'p')" 2>/dev/null)"
  if [[ "$note" != ok ]]; then
    BAD=1
    warn "$c: CHECK FAILED: $table: $note (source: $SRC_COUNT rows)"
  fi
  if [[ -z "${CHECK[$c]:-}" || "${CHECK[$c]}" == ok ]]; then CHECK[$c]="$note"; fi
}

run_one() {
  local c="$1" round="$2" logf="$WORK/logs/$1.$2.log"
  RUN_RC=0 RUN_SECS=""
  log "round $round/$ROUNDS: ${LABEL[$c]}"
  pg "$DST_DB" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS public.data_fact_$c" >/dev/null
  "run_$c" "$round" >"$logf" 2>&1
  if ((RUN_RC != 0)); then
    BAD=1
    record_failure "$c" "$logf"
    return
  fi
  TIMES[$c]+="${TIMES[$c]:+ }$RUN_SECS"
  local pk=""
  if [[ "$c" == a && "$DO_PK" == 1 ]]; then
    local t0 t1
    t0="$(now)"
    if pg "$DST_DB" -c "ALTER TABLE public.data_fact_a ADD PRIMARY KEY (uuid)" >>"$logf" 2>&1; then
      t1="$(now)"
      pk="$(elapsed "$t0" "$t1")"
      PK_TIMES[a]+="${PK_TIMES[a]:+ }$pk"
    else
      warn "a: ADD PRIMARY KEY failed (see $logf)"
    fi
  fi
  check_load "$c"
  log "  $c: $RUN_SECS s${pk:+, then ADD PRIMARY KEY $pk s}, check ${CHECK[$c]}"
  # Not left for autovacuum to work on while the next contender runs.
  pg "$DST_DB" -c "DROP TABLE IF EXISTS public.data_fact_$c" >/dev/null
}

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
run_rounds
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

# ---------------------------------------------------------------- profile ---

# Self time per function of a .cpuprofile (V8's sampling profile of the main thread).
# Usage: profile_top FILE N
profile_top() {
  node -e '
    const p = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const top = Number(process.argv[2]);
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map();
    for (let i = 0; i < p.samples.length; i++) {
      const us = p.timeDeltas[i + 1] ?? 0;   // a sample lasts until the next one
      self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + us);
    }
    const total = (p.endTime - p.startTime) / 1e6;
    const short = (u) => (u.includes("/node_modules/") ? u.replace(/^.*\/node_modules\//, "") : u.replace(/^.*\/(dist|src)\//, "$1/"));
    const fn = new Map();
    for (const [id, us] of self) {
      const cf = byId.get(id).callFrame;
      const k = (cf.functionName || "(anonymous)") + (cf.url ? "  " + short(cf.url) + ":" + (cf.lineNumber + 1) : "");
      fn.set(k, (fn.get(k) ?? 0) + us);
    }
    console.log("   self s  share  function (" + total.toFixed(1) + " s profiled)");
    for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log((us / 1e6).toFixed(2).padStart(9) + " " + ((100 * us) / 1e6 / total).toFixed(1).padStart(5) + "%  " + k);
    }
  ' "$1" "$2"
}

declare -A PROFILE_OUT=()
for c in "${PROFILE[@]}"; do
  if [[ -n "${FAILED[$c]:-}" ]]; then
    PROFILE_OUT[$c]="not profiled: ${FAILED[$c]}"
    continue
  fi
  [[ -f "$WORK/$c/job.yaml" ]] || continue
  log "profile: ${LABEL[$c]} under node --cpu-prof"
  pg "$DST_DB" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS public.data_fact_$c" >/dev/null
  rm -rf "$WORK/$c/.ferry" "$WORK/prof/$c"
  checkpoint
  load0="$(cut -d' ' -f1 /proc/loadavg)"
  t0="$(now)"
  "${TO[@]}" node --cpu-prof --cpu-prof-dir="$WORK/prof/$c" "$FERRY_BIN" run --fresh --no-progress \
    "$WORK/$c/job.yaml" >"$WORK/logs/profile.$c.log" 2>&1 </dev/null
  rc=$?
  t1="$(now)"
  prof="$(find "$WORK/prof/$c" -name '*.cpuprofile' 2>/dev/null | head -n 1)"
  if ((rc != 0)) || [[ -z "$prof" ]]; then
    PROFILE_OUT[$c]="profiled run failed (exit $rc, see $WORK/logs/profile.$c.log)"
    continue
  fi
  kept=""
  [[ "${BENCH_KEEP:-0}" == 1 ]] && kept="; $prof"
  PROFILE_OUT[$c]="$(elapsed "$t0" "$t1") s with the profiler on (load average $load0 at its start)$kept
$(profile_top "$prof" "$PROFILE_TOP")"
  pg "$DST_DB" -c "DROP TABLE IF EXISTS public.data_fact_$c" >/dev/null
done

# --------------------------------------------------------------- report ---

declare -A MEDIAN=()
for k in a b c d e; do
  # shellcheck disable=SC2086
  [[ -n "${TIMES[$k]:-}" ]] && MEDIAN[$k]="$(median ${TIMES[$k]})"
done
# a+pk: a's load plus its ADD PRIMARY KEY, round by round.
APK_TIMES=""
if [[ -n "${PK_TIMES[a]:-}" ]]; then
  read -r -a at <<<"${TIMES[a]}"
  read -r -a pt <<<"${PK_TIMES[a]}"
  for i in "${!pt[@]}"; do
    APK_TIMES+="${APK_TIMES:+ }$(awk -v x="${at[$i]}" -v y="${pt[$i]}" 'BEGIN { printf "%.3f", x + y }')"
  done
  # shellcheck disable=SC2086
  MEDIAN[apk]="$(median $APK_TIMES)"
fi

size_of() { du -sb --exclude=_ferry "$1" 2>/dev/null | cut -f1; }
files_in() { find "$1" -path "$1/_ferry" -prune -o -type f -name 'part-*' -print 2>/dev/null | wc -l; }
describe_input() {
  printf '%s bytes (%s MiB)' "$(size_of "$1")" "$(awk -v b="$(size_of "$1")" 'BEGIN { printf "%.1f", b / 1048576 }')"
  [[ -n "${2:-}" ]] && printf ', %s files' "$2"
  [[ -n "${PREP_SECS[$3]:-}" ]] && printf ', written in %s s' "${PREP_SECS[$3]}"
  [[ -z "${PREP_SECS[$3]:-}" ]] && printf ', reused'
}

cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"

echo
echo "== ferry lake-to-pg benchmark =="
printf '%-14s %s\n' \
  "date" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  "machine" "nproc $(nproc), ${cpu:-unknown cpu}, ${mem:-? RAM}, $(uname -sr)" \
  "postgres" "$(pg_setting server_version) at $PGHOST:$PGPORT (shared_buffers $(pg_setting shared_buffers), maintenance_work_mem $(pg_setting maintenance_work_mem), max_wal_size $(pg_setting max_wal_size), wal_level $(pg_setting wal_level), synchronous_commit $(pg_setting synchronous_commit))" \
  "client" "$(psql --version), $(gzip --version 2>/dev/null | head -n 1), node $(node --version 2>/dev/null)" \
  "ferry" "$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes'), parallel ${PARALLEL:-default}" \
  "rows" "$SRC_COUNT in $SRC_DB.public.data_fact, loaded into $DST_DB" \
  "parquet lake" "$(describe_input "$LAKE/parquet" "$(files_in "$LAKE/parquet")" parquet)" \
  "csv.gz lake" "$(describe_input "$LAKE/csv" "$(files_in "$LAKE/csv")" csv)" \
  "plain csv.gz" "$(describe_input "$PLAIN" "" plain) (gzip -$GZIP_LEVEL, with a header)" \
  "rounds" "$ROUNDS (order rotated each round), contenders: ${CONTENDERS[*]}" \
  "check" "row count$([[ "$CHECK_CONTENT" == 1 ]] && echo ' and content fingerprint') of every load against the source" \
  "load average" "$LOAD_START before the rounds, $LOAD_END after (other work on the machine skews the times)"
echo

fmt='%-28s %9s %8s %6s %7s %4s %6s %8s  %-26s %s\n'
# shellcheck disable=SC2059
printf "$fmt" "contender" "median s" "Mrows/s" "vs a" "vs a+pk" "PK" "cpu s" "RSS MB" "rounds (s)" "check"
# shellcheck disable=SC2059
printf "$fmt" "---------" "--------" "-------" "----" "-------" "--" "-----" "------" "----------" "-----"
rate() { awk -v n="$SRC_COUNT" -v s="$1" 'BEGIN { if (s > 0) printf "%.2f", n / s / 1e6; else printf "-" }'; }
for k in a b c d e; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  if [[ -z "${MEDIAN[$k]:-}" ]]; then
    printf '%-28s %s\n' "${LABEL[$k]}" "${FAILED[$k]:-no run}"
    continue
  fi
  med="${MEDIAN[$k]}"
  peak="$(peak_kb "$k")"
  cpus=""
  # shellcheck disable=SC2086
  [[ -n "${CPU[$k]:-}" ]] && cpus="$(median ${CPU[$k]} | awk '{ printf "%.1f", $1 }')"
  case "${HAS_PK[$k]:-}" in t) pk=yes ;; f) pk=no ;; *) pk="?" ;; esac
  [[ "$k" == a ]] && pk=no   # its key is added after the timed load (row a+pk)
  # shellcheck disable=SC2059
  printf "$fmt" "${LABEL[$k]}" "$med" "$(rate "$med")" "$(ratio "$med" "${MEDIAN[a]:-}")" \
    "$(ratio "$med" "${MEDIAN[apk]:-}")" "$pk" "$cpus" "${peak:+$(mb "$peak")}" "${TIMES[$k]}" "${CHECK[$k]:-}"
  [[ "$k" == a && -n "${MEDIAN[apk]:-}" ]] &&
    # shellcheck disable=SC2059
    printf "$fmt" "a+pk  a + ADD PRIMARY KEY" "${MEDIAN[apk]}" "$(rate "${MEDIAN[apk]}")" \
      "$(ratio "${MEDIAN[apk]}" "${MEDIAN[a]}")" "1.00x" "yes" "" "" "$APK_TIMES" "${CHECK[a]:-}"
  if [[ -n "${FAILED[$k]:-}" ]]; then
    printf '%-28s %s\n' "" "(then ${FAILED[$k]} in a later round)"
  fi
done
echo
echo "vs a: median / a's median (a: the reference, no index). vs a+pk: median / a+pk's median; the"
echo "fair one for b and e, which build the primary key the manifest names. PK: the table has one."
echo "cpu s: user+sys of the contender's own processes (GNU time), not the server's."
for k in a b c d e; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  peak="$(peak_kb "$k")"
  [[ -n "$peak" ]] || continue
  what="ferry"
  [[ "$k" == a ]] && what="psql + gzip"
  echo "${k}: peak RSS ($what) $(mb "$peak") MB (max over $(wc -w <<<"${RSS_TREE[$k]}") round(s); $(peak_detail "$k"))"
done
for c in "${PROFILE[@]}"; do
  [[ -n "${PROFILE_OUT[$c]:-}" ]] || continue
  echo
  echo "profile of $c (${LABEL[$c]#?  }): ${PROFILE_OUT[$c]}"
done
if ((BAD)); then
  echo
  echo "bench: FAILED: a load failed or its table does not hold the source's rows (see the check column)" >&2
  exit 3
fi
