#!/usr/bin/env bash
# PostgreSQL -> data lake on local disk: ferry against psql COPY | gzip.
#
#   bash bench/pg-to-lake.sh
#   BENCH_ROUNDS=1 BENCH_VERIFY=0 bash bench/pg-to-lake.sh    # quicker try
#
# Contenders, each writing the whole ferry_bench_src.public.data_fact:
#   a  psql -c "COPY public.data_fact TO STDOUT (FORMAT csv)" | gzip -6 > file.csv.gz  (the reference)
#   b  ferry run, target file:<tmp>/lake, format parquet, compression zstd
#   c  ferry run, target file:<tmp>/lake, format csv, compression gzip
# After the timed rounds, `ferry verify` runs once on b's and c's last lake
# (not timed in the table; its time and result are printed below it).
#
# Prints figures; it is not a test. A contender that fails is shown as
# "FAILED (exit N)" and skipped in later rounds; the script itself only exits
# non-zero when it cannot prepare the data (PostgreSQL unreachable, bad env).
# See bench/README.md for what each line means.
#
# Environment (all optional):
#   PGHOST PGPORT PGUSER    server to use (default 127.0.0.1, 5432, postgres)
#   BENCH_ROWS              rows in the source table (default 5183352); a table
#                           with another count is rebuilt by bench/pg-to-pg.sh
#   BENCH_ROUNDS            rounds; each round runs every contender once (default 3);
#                           0 only prepares the source table
#   BENCH_CONTENDERS        which contenders, e.g. "a b" (default "a b c")
#   GZIP_LEVEL              gzip level of the reference a (default 6, gzip's own default;
#                           ferry's gzip is zlib level 6 too)
#   FERRY_PARALLEL          defaults.parallel in the job files (default: not set, ferry's default)
#   FERRY_CHUNK_ROWS        defaults.chunk_rows in the job files (default: not set, ferry's default)
#   FERRY_BIN               ferry's entry point, run with node (default bin/ferry.js)
#   BENCH_VERIFY            1/0: run `ferry verify` on b's and c's output after the rounds (default 1)
#   BENCH_TIMEOUT           seconds before one contender run is killed (default 0 = never)
#   BENCH_RSS_INTERVAL_MS   memory sampling interval (default 100)
#   BENCH_GNU_TIME          1/0: also measure memory and CPU with GNU time if present (default 1)
#   BENCH_KEEP              1: keep the temp dir (job files, lakes, logs) at the end
#   TMPDIR                  where the temp dir goes (the outputs need about 1 GB at full size)

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
source bench/lib.sh

SRC_DB=ferry_bench_src
ROWS="${BENCH_ROWS:-5183352}"
ROUNDS="${BENCH_ROUNDS:-3}"
GZIP_LEVEL="${GZIP_LEVEL:-6}"
PARALLEL="${FERRY_PARALLEL:-}"
CHUNK_ROWS="${FERRY_CHUNK_ROWS:-}"
FERRY_BIN="${FERRY_BIN:-bin/ferry.js}"
VERIFY="${BENCH_VERIFY:-1}"
TIMEOUT="${BENCH_TIMEOUT:-0}"
RSS_INTERVAL_MS="${BENCH_RSS_INTERVAL_MS:-100}"
BENCH_CONTENDERS="${BENCH_CONTENDERS:-a b c}"
read -r -a CONTENDERS <<<"${BENCH_CONTENDERS//,/ }"

require_whole_numbers ROWS ROUNDS TIMEOUT RSS_INTERVAL_MS
for v in PARALLEL CHUNK_ROWS; do
  if [[ -n "${!v}" ]] && ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
    echo "bench: FERRY_$v must be a positive whole number, got '${!v}'" >&2
    exit 2
  fi
done
if ! [[ "$GZIP_LEVEL" =~ ^[1-9]$ ]]; then
  echo "bench: GZIP_LEVEL must be 1-9, got '$GZIP_LEVEL'" >&2
  exit 2
fi
for c in "${CONTENDERS[@]}"; do
  [[ "$c" =~ ^[abc]$ ]] || { echo "bench: unknown contender '$c' (use a b c)" >&2; exit 2; }
done

ferry_settings="chunk_rows ${CHUNK_ROWS:-default}, parallel ${PARALLEL:-default}"
declare -A LABEL=(
  [a]="a  psql COPY csv | gzip -$GZIP_LEVEL"
  [b]="b  ferry -> parquet, zstd"
  [c]="c  ferry -> csv, gzip"
)
declare -A TIMES=()   # contender -> "secs secs ..." (one per round)
declare -A FAILED=()  # contender -> "FAILED (exit N)"
declare -A CHECK=()   # contender -> "ok" or what was wrong
declare -A BYTES=()   # contender -> output bytes on disk of its last successful run
declare -A FILES=()   # contender -> data files of its last successful run
declare -A RSS_TREE=() RSS_HWM=() RSS_GNU=()  # contender -> "kb kb ..." (successful rounds)
declare -A CPU=()     # contender -> "secs secs ..." user+system CPU of the contender's own processes (GNU time)

set_timeout_and_gnu_time

make_work_dir ferry-bench-lake a b c

# One folder per ferry contender: its job file, its lake and its .ferry/ state.
# Usage: write_job DIR FORMAT COMPRESSION
write_job() {
  {
    echo "source: postgres://${PGUSER}@${PGHOST}:${PGPORT}/${SRC_DB}"
    echo "target: file:$1/lake"
    echo "defaults:"
    echo "  format: $2"
    echo "  compression: $3"
    [[ -n "$CHUNK_ROWS" ]] && echo "  chunk_rows: $CHUNK_ROWS"
    [[ -n "$PARALLEL" ]] && echo "  parallel: $PARALLEL"
    echo "streams:"
    echo "  public.data_fact: {}"
  } >"$1/job.yaml"
}
write_job "$WORK/b" parquet zstd
write_job "$WORK/c" csv gzip
A_OUT="$WORK/a/data_fact.csv.gz"

# ---------------------------------------------------------------- prepare ---


if ! pg_val postgres "SELECT 1" >/dev/null; then
  echo "bench: cannot reach PostgreSQL at $PGHOST:$PGPORT as $PGUSER" >&2
  exit 1
fi
prepare_pg_data_fact || { echo "bench: preparing the source failed" >&2; exit 1; }
SRC_COUNT="$(data_fact_count "$SRC_DB")" || { echo "bench: cannot count the source" >&2; exit 1; }
if ((ROUNDS == 0)); then
  log "BENCH_ROUNDS=0: source prepared ($SRC_COUNT rows), nothing timed"
  exit 0
fi

if [[ " ${CONTENDERS[*]} " == *" b "* || " ${CONTENDERS[*]} " == *" c "* ]]; then
  warn_if_stale_build ferry
fi

# ------------------------------------------------------------ contenders ---


# Before every run (not timed): the previous output is deleted and `sync`
# writes back dirty pages, so no run pays for another's writes.

# a: the reference. psql streams the table as CSV, gzip compresses it.
run_a() {
  rm -f "$A_OUT"
  sync
  # shellcheck disable=SC2016 # $1..$3 expand in the inner bash
  measured a "$1" bash -c 'set -o pipefail
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "COPY public.data_fact TO STDOUT (FORMAT csv)" |
      gzip -"$2" >"$3"' _ "$SRC_DB" "$GZIP_LEVEL" "$A_OUT"
}

# b, c: ferry into a fresh lake, with no .ferry/ state left from an earlier
# run (so nothing resumes), and --fresh on top.
run_ferry() {
  local c="$1" round="$2" dir="$WORK/$1"
  rm -rf "$dir/lake" "$dir/.ferry"
  sync
  measured "$c" "$round" node "$FERRY_BIN" run --fresh "$dir/job.yaml"
}
run_b() { run_ferry b "$1"; }
run_c() { run_ferry c "$1"; }

# Output size and a row count after a successful run. The size is `du -sb`
# of a's file, or of the lake without its _ferry/ folder (chunk markers);
# the stream's _ferry_manifest.json is counted. Rows: a's file decompressed
# and its lines counted (no value here holds a newline); for the lakes, the
# rows in the manifests.
check_output() {
  local c="$1" got bytes files
  if [[ "$c" == a ]]; then
    bytes="$(du -sb "$A_OUT" | cut -f1)"
    files=1
    got="$(gzip -dc "$A_OUT" | wc -l)" || got=""
  else
    local lake="$WORK/$c/lake"
    bytes="$(du -sb --exclude=_ferry "$lake" | cut -f1)"
    files="$(find "$lake" -path "$lake/_ferry" -prune -o -type f -name 'part-*' -print | wc -l)"
    got="$(node -e '
      const fs = require("node:fs"), path = require("node:path");
      let rows = 0, n = 0;
      for (const d of fs.readdirSync(process.argv[1])) {
        const f = path.join(process.argv[1], d, "_ferry_manifest.json");
        if (fs.existsSync(f)) { rows += JSON.parse(fs.readFileSync(f, "utf8")).rows; n++; }
      }
      console.log(n ? rows : "");
    ' "$lake" 2>/dev/null)" || got=""
  fi
  BYTES[$c]="$bytes"
  FILES[$c]="$files"
  local note=ok
  if [[ "$got" != "$SRC_COUNT" ]]; then
    warn "$c: output holds ${got:-no} rows, source has $SRC_COUNT"
    note="rows ${got:-none}!=$SRC_COUNT"
  fi
  if [[ -z "${CHECK[$c]:-}" || "${CHECK[$c]}" == ok ]]; then CHECK[$c]="$note"; fi
}

run_one() {
  local c="$1" round="$2" logf="$WORK/logs/$1.$2.log"
  RUN_RC=0 RUN_SECS=""
  log "round $round/$ROUNDS: ${LABEL[$c]}"
  "run_$c" "$round" >"$logf" 2>&1
  if ((RUN_RC != 0)); then
    record_failure "$c" "$logf"
    return
  fi
  TIMES[$c]+="${TIMES[$c]:+ }$RUN_SECS"
  check_output "$c"
  log "  $c: $RUN_SECS s, ${BYTES[$c]} bytes"
}

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
run_rounds
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

# ----------------------------------------------------------------- verify ---

# `ferry verify` on the lake of each ferry contender's last run (it reads the
# source and the lake back whole and compares counts and content hashes).
declare -A VERIFY_LINE=()
if [[ "$VERIFY" == 1 ]]; then
  for c in b c; do
    [[ " ${CONTENDERS[*]} " == *" $c "* ]] || continue
    if [[ -n "${FAILED[$c]:-}" || -z "${TIMES[$c]:-}" ]]; then
      VERIFY_LINE[$c]="not run (no successful last run)"
      continue
    fi
    log "verify: ${LABEL[$c]}"
    logf="$WORK/logs/verify.$c.log"
    t0="$(now)"
    "${TO[@]}" node "$FERRY_BIN" verify "$WORK/$c/job.yaml" >"$logf" 2>&1 </dev/null
    rc=$?
    t1="$(now)"
    secs="$(elapsed "$t0" "$t1")"
    result="$(awk '$1 == "public.data_fact" { print $3; exit }' "$logf")"
    summary="$(grep -m1 '^verify:' "$logf")"
    if ((rc == 0)) && [[ "$result" == equal ]]; then
      VERIFY_LINE[$c]="equal (exit 0) in $secs s: $summary"
    else
      VERIFY_LINE[$c]="NOT EQUAL or failed (exit $rc, result '${result:-?}') in $secs s: ${summary:-$(tail -n 1 "$logf")}"
      warn "verify $c: exit $rc; last lines of its output:"
      tail -n 15 "$logf" | sed 's/^/    | /' >&2
    fi
    log "  verify $c: ${VERIFY_LINE[$c]}"
  done
fi

# --------------------------------------------------------------- report ---

declare -A MEDIAN=()
for k in a b c; do
  # shellcheck disable=SC2086
  [[ -n "${TIMES[$k]:-}" ]] && MEDIAN[$k]="$(median ${TIMES[$k]})"
done

# Peak memory of contender $1 in kB (largest of all its figures), or empty.

cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
src_size="$(pg_val "$SRC_DB" "SELECT pg_size_pretty(pg_table_size('public.data_fact')) || ' heap + ' || pg_size_pretty(pg_indexes_size('public.data_fact')) || ' index'" 2>/dev/null)"
disk="$(df -hP "$WORK" 2>/dev/null | awk 'NR == 2 { print $1 " (" $2 ", " $4 " free)" }')"

echo
echo "== ferry pg-to-lake benchmark =="
printf '%-14s %s\n' \
  "date" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  "machine" "nproc $(nproc), ${cpu:-unknown cpu}, ${mem:-? RAM}, $(uname -sr)" \
  "postgres" "$(pg_setting server_version) at $PGHOST:$PGPORT (shared_buffers $(pg_setting shared_buffers))" \
  "client" "$(psql --version), $(gzip --version 2>/dev/null | head -n 1), node $(node --version 2>/dev/null)" \
  "ferry" "$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes'), $ferry_settings" \
  "output" "$WORK on $disk" \
  "rows" "$SRC_COUNT in $SRC_DB.public.data_fact (${src_size:-?})" \
  "rounds" "$ROUNDS (order rotated each round), contenders: ${CONTENDERS[*]}" \
  "load average" "$LOAD_START before the rounds, $LOAD_END after (other work on the machine skews the times)"
echo

fmt='%-28s %9s %8s %6s %12s %7s %6s %6s %8s  %-26s %s\n'
# shellcheck disable=SC2059
printf "$fmt" "contender" "median s" "Mrows/s" "vs a" "output bytes" "size MB" "vs a" "files" "RSS MB" "rounds (s)" "check"
# shellcheck disable=SC2059
printf "$fmt" "---------" "--------" "-------" "----" "------------" "-------" "----" "-----" "------" "----------" "-----"
for k in a b c; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  if [[ -z "${MEDIAN[$k]:-}" ]]; then
    printf '%-28s %s\n' "${LABEL[$k]}" "${FAILED[$k]:-no run}"
    continue
  fi
  med="${MEDIAN[$k]}"
  rate="$(awk -v n="$SRC_COUNT" -v s="$med" 'BEGIN { if (s > 0) printf "%.2f", n / s / 1e6; else printf "-" }')"
  peak="$(peak_kb "$k")"
  bytes="${BYTES[$k]:-}"
  # shellcheck disable=SC2059
  printf "$fmt" "${LABEL[$k]}" "$med" "$rate" "$(ratio "$med" "${MEDIAN[a]:-}")" "$bytes" \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" "$(ratio "$bytes" "${BYTES[a]:-}")" \
    "${FILES[$k]:-}" "${peak:+$(mb "$peak")}" "${TIMES[$k]}" "${CHECK[$k]:-}"
  if [[ -n "${FAILED[$k]:-}" ]]; then
    printf '%-28s %s\n' "" "(then ${FAILED[$k]} in a later round)"
  fi
done
echo

for k in a b c; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  [[ -n "${CPU[$k]:-}" ]] || continue
  # shellcheck disable=SC2086
  echo "${k}: cpu s (user+sys of its own processes, GNU time) per round: ${CPU[$k]}; median $(median ${CPU[$k]} | awk '{ printf "%.1f", $1 }')"
done
for k in a b c; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  peak="$(peak_kb "$k")"
  [[ -n "$peak" ]] || continue
  what="ferry"
  [[ "$k" == a ]] && what="psql + gzip"
  # shellcheck disable=SC2086
  echo "${k}: peak RSS ($what) $(mb "$peak") MB (max over $(wc -w <<<"${RSS_TREE[$k]}") round(s); $(peak_detail "$k"))"
done
if [[ "$VERIFY" == 1 ]]; then
  for k in b c; do
    [[ -n "${VERIFY_LINE[$k]:-}" ]] && echo "${k}: ferry verify: ${VERIFY_LINE[$k]}"
  done
else
  echo "ferry verify: skipped (BENCH_VERIFY=0)"
fi

# One line per contender for bench/run-all (only when BENCH_RESULTS is set).
for k in a b c; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  role=ferry
  [[ "$k" == a ]] && role=ref
  check="${CHECK[$k]:-ok}"
  [[ "$VERIFY" == 1 && -n "${VERIFY_LINE[$k]:-}" && "${VERIFY_LINE[$k]}" != equal* ]] && check="verify: not equal"
  if [[ -n "${MEDIAN[$k]:-}" ]]; then
    emit_result pg-lake "$k" "$role" "$(label_text "${LABEL[$k]}")" "${MEDIAN[$k]}" "${TIMES[$k]}" "$(peak_kb "$k")" "$SRC_COUNT" "$check"
  else
    emit_result pg-lake "$k" "$role" "$(label_text "${LABEL[$k]}")" "" "" "" "$SRC_COUNT" "${FAILED[$k]:-no run}"
  fi
done
