#!/usr/bin/env bash
# PostgreSQL -> PostgreSQL copy benchmark: ferry against the raw tools.
#
#   bash bench/pg-to-pg.sh
#   BENCH_ROWS=200000 BENCH_ROUNDS=1 bash bench/pg-to-pg.sh    # quick try
#
# Prints figures; it is not a test. A contender that fails is shown as
# "FAILED (exit N)" and skipped in later rounds; the script itself only exits
# non-zero when it cannot prepare the data (PostgreSQL unreachable, bad env).
# See bench/README.md for what each line means.
#
# Environment (all optional):
#   PGHOST PGPORT PGUSER    server to use (default 127.0.0.1, 5432, postgres)
#   BENCH_ROWS              rows in the source table (default 5183352)
#   BENCH_ROUNDS            rounds; each round runs every contender once (default 3);
#                           0 only prepares the source table
#   BENCH_CONTENDERS        which contenders, e.g. "a b c" (default "a b c d")
#   FERRY_PARALLEL          ferry's defaults.parallel in the job file (default: ferry's own default on this machine)
#   BENCH_PARALLEL_SWEEP    e.g. "1 2 4": adds contenders p1 p2 p4, ferry run --parallel N
#   FERRY_BIN               ferry's entry point, run with node (default bin/ferry.js)
#   BENCH_TIMEOUT           seconds before one contender run is killed (default 0 = never)
#   BENCH_RSS_INTERVAL_MS   ferry memory sampling interval (default 100)
#   BENCH_GNU_TIME          1/0: also measure ferry with GNU time if present (default 1)
#   BENCH_KEEP              1: keep the temp dir (job file, logs) at the end

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
source bench/lib.sh

SRC_DB=ferry_bench_src
DST_DB=ferry_bench_dst
ROWS="${BENCH_ROWS:-5183352}"
ROUNDS="${BENCH_ROUNDS:-3}"
PARALLEL="${FERRY_PARALLEL:-$(ferry_default_parallel)}"
FERRY_BIN="${FERRY_BIN:-bin/ferry.js}"
TIMEOUT="${BENCH_TIMEOUT:-0}"
RSS_INTERVAL_MS="${BENCH_RSS_INTERVAL_MS:-100}"
BENCH_CONTENDERS="${BENCH_CONTENDERS:-a b c d}"
read -r -a CONTENDERS <<<"${BENCH_CONTENDERS//,/ }"
read -r -a SWEEP <<<"${BENCH_PARALLEL_SWEEP:-}"
SWEEP=("${SWEEP[@]//,/ }")

require_whole_numbers ROWS ROUNDS PARALLEL TIMEOUT RSS_INTERVAL_MS
for n in "${SWEEP[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_PARALLEL_SWEEP: '$n' is not a positive whole number" >&2; exit 2; }
  CONTENDERS+=("p$n")
done
for c in "${CONTENDERS[@]}"; do
  [[ "$c" =~ ^([abcd]|p[1-9][0-9]*)$ ]] || { echo "bench: unknown contender '$c' (use a b c d, or pN)" >&2; exit 2; }
done

declare -A LABEL=(
  [a]="a  binary COPY -> table with PK"
  [b]="b  binary COPY -> no PK, + ADD PK"
  [b1]="     b1 binary COPY (no index)"
  [b2]="     b2 ALTER TABLE ADD PRIMARY KEY"
  [c]="c  pg_dump | psql"
  [d]="d  ferry run (parallel $PARALLEL)"
)
for n in "${SWEEP[@]}"; do LABEL[p$n]="p$n ferry run --parallel $n"; done
declare -A TIMES=()   # contender -> "secs secs ..." (one per round)
declare -A FAILED=()  # contender -> "FAILED (exit N)"
declare -A CHECK=()   # contender -> "ok" or what was wrong
declare -A RSS_TREE=() RSS_HWM=() RSS_GNU=() CPU=()   # ferry contenders, filled by `measured`

set_timeout_and_gnu_time

make_work_dir ferry-bench

JOB="$WORK/job.yaml"
cat >"$JOB" <<YAML
source: postgres://${PGUSER}@${PGHOST}:${PGPORT}/${SRC_DB}
target: postgres://${PGUSER}@${PGHOST}:${PGPORT}/${DST_DB}
defaults:
  mode: full-refresh
  parallel: ${PARALLEL}
streams:
  public.data_fact: {}
YAML

# ---------------------------------------------------------------- prepare ---

prepare_source() {
  ensure_db "$SRC_DB" || return 1
  ensure_db "$DST_DB" || return 1
  local have pk
  have="$(data_fact_count "$SRC_DB" 2>/dev/null)" || have=""
  pk="$(data_fact_has_pk "$SRC_DB")" || pk=""
  if [[ "$have" == "$ROWS" && "$pk" == t ]]; then
    log "source $SRC_DB.public.data_fact already holds $ROWS rows"
    return 0
  fi
  log "generating $ROWS rows in $SRC_DB.public.data_fact (found: ${have:-no table})"
  local t0 t1
  t0="$(now)"
  drop_data_fact "$SRC_DB" || return 1
  data_fact_ddl nopk | pg "$SRC_DB" || return 1
  # Ten years of one-minute readings with jitter; date_id/time_id derived
  # from the timestamp (UTC) as YYYYMMDD and HHMM.
  pg "$SRC_DB" <<SQL || return 1
SET synchronous_commit = off;
INSERT INTO public.data_fact
SELECT gen_random_uuid(),
       ts,
       random() * 1000,
       1 + floor(random() * 12)::int,
       1 + floor(random() * 40)::int,
       1 + floor(random() * 8)::int,
       to_char(ts AT TIME ZONE 'UTC', 'YYYYMMDD')::int,
       to_char(ts AT TIME ZONE 'UTC', 'HH24MI')::int
FROM (
  SELECT timestamptz '2015-01-01 00:00:00+00'
         + g * interval '1 minute'
         + random() * interval '59 seconds' AS ts
  FROM generate_series(1, $ROWS) AS g
  OFFSET 0
) AS s;
SQL
  log "adding primary key, VACUUM (FREEZE, ANALYZE)"
  pg "$SRC_DB" -c "ALTER TABLE public.data_fact ADD PRIMARY KEY (uuid)" || return 1
  pg "$SRC_DB" -c "VACUUM (FREEZE, ANALYZE) public.data_fact" || return 1
  t1="$(now)"
  log "source ready in $(elapsed "$t0" "$t1") s"
}

if ! pg_val postgres "SELECT 1" >/dev/null; then
  echo "bench: cannot reach PostgreSQL at $PGHOST:$PGPORT as $PGUSER" >&2
  exit 1
fi
prepare_source || { echo "bench: preparing the source failed" >&2; exit 1; }
SRC_COUNT="$(data_fact_count "$SRC_DB")" || { echo "bench: cannot count the source" >&2; exit 1; }
if ((ROUNDS == 0)); then
  log "BENCH_ROUNDS=0: source prepared ($SRC_COUNT rows), nothing timed"
  exit 0
fi

if [[ " ${CONTENDERS[*]} " == *" d "* ]]; then
  warn_if_stale_build d
fi

# ------------------------------------------------------------ contenders ---

# Each run_X sets RUN_RC and RUN_SECS (b also RUN_B1, RUN_B2). Only the
# commands between the two now() calls are timed; dropping/creating the
# target table and the CHECKPOINT before are not.

pipe_binary() {
  # shellcheck disable=SC2016 # $1/$2 expand in the inner bash
  "${TO[@]}" bash -c 'set -o pipefail
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "COPY public.data_fact TO STDOUT (FORMAT binary)" |
      psql -X -q -v ON_ERROR_STOP=1 -d "$2" -c "COPY public.data_fact FROM STDIN (FORMAT binary)"' \
    _ "$SRC_DB" "$DST_DB"
}

run_a() {
  # shellcheck disable=SC2015 # the || branch is meant for a failure of either
  drop_data_fact "$DST_DB" && data_fact_ddl pk | pg "$DST_DB" || { RUN_RC=90; return; }
  checkpoint
  local t0 t1
  t0="$(now)"
  pipe_binary
  RUN_RC=$?
  t1="$(now)"
  RUN_SECS="$(elapsed "$t0" "$t1")"
}

run_b() {
  # shellcheck disable=SC2015 # the || branch is meant for a failure of either
  drop_data_fact "$DST_DB" && data_fact_ddl nopk | pg "$DST_DB" || { RUN_RC=90; return; }
  checkpoint
  copy_then_add_pk "$DST_DB" public.data_fact uuid
}

run_c() {
  drop_data_fact "$DST_DB" || { RUN_RC=90; return; }
  checkpoint
  local t0 t1
  t0="$(now)"
  # shellcheck disable=SC2016 # $1/$2 expand in the inner bash
  "${TO[@]}" bash -c 'set -o pipefail
    pg_dump -t public.data_fact "$1" | psql -X -q -v ON_ERROR_STOP=1 -d "$2"' \
    _ "$SRC_DB" "$DST_DB"
  RUN_RC=$?
  t1="$(now)"
  RUN_SECS="$(elapsed "$t0" "$t1")"
}

# ferry runs under bench/peak-rss.mjs (`measured` in lib.sh), which samples its process tree's
# memory and times it from spawn to exit (so node's start-up for the sampler itself is not charged
# to ferry). d runs the job as written; pN adds --parallel N.
run_ferry() {
  local c="$1" round="$2"
  drop_data_fact "$DST_DB" || { RUN_RC=90; return; }
  rm -rf "$WORK/.ferry"
  checkpoint
  local extra=()
  [[ "$c" == p* ]] && extra=(--parallel "${c#p}")
  measured "$c" "$round" node "$FERRY_BIN" run --fresh --no-progress "${extra[@]}" "$JOB"
}
run_d() { run_ferry d "$1"; }

# Row count and primary key of the target after a successful run.
verify() {
  local c="$1" got pk notes=()
  got="$(data_fact_count "$DST_DB" 2>/dev/null)" || got=""
  if [[ "$got" != "$SRC_COUNT" ]]; then
    warn "$c: target has ${got:-no table} rows, source has $SRC_COUNT"
    notes+=("rows ${got:-none}!=$SRC_COUNT")
  fi
  pk="$(data_fact_has_pk "$DST_DB")" || pk=""
  if [[ "$pk" != t ]]; then
    warn "$c: target table has no primary key"
    notes+=("no PK")
  fi
  local note="ok"
  ((${#notes[@]})) && note="${notes[*]}"
  # keep the first problem seen across rounds
  if [[ -z "${CHECK[$c]:-}" || "${CHECK[$c]}" == ok ]]; then CHECK[$c]="$note"; fi
}

run_one() {
  local c="$1" round="$2" logf="$WORK/logs/$1.$2.log"
  RUN_RC=0 RUN_SECS="" RUN_B1="" RUN_B2=""
  log "round $round/$ROUNDS: ${LABEL[$c]}"
  if [[ "$c" == p* ]]; then
    run_ferry "$c" "$round" >"$logf" 2>&1
  else
    "run_$c" "$round" >"$logf" 2>&1
  fi
  if ((RUN_RC != 0)); then
    record_failure "$c" "$logf"
    return
  fi
  TIMES[$c]+="${TIMES[$c]:+ }$RUN_SECS"
  if [[ "$c" == b ]]; then
    TIMES[b1]+="${TIMES[b1]:+ }$RUN_B1"
    TIMES[b2]+="${TIMES[b2]:+ }$RUN_B2"
    log "  b: $RUN_SECS s (copy $RUN_B1 s + add PK $RUN_B2 s)"
  else
    log "  $c: $RUN_SECS s"
  fi
  verify "$c"
}

run_rounds

# --------------------------------------------------------------- report ---

declare -A MEDIAN=()
ROWS_OF=(a b b1 b2 c d)
for n in "${SWEEP[@]}"; do ROWS_OF+=("p$n"); done
for k in "${ROWS_OF[@]}"; do
  # shellcheck disable=SC2086
  [[ -n "${TIMES[$k]:-}" ]] && MEDIAN[$k]="$(median ${TIMES[$k]})"
done


cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
src_size="$(pg_val "$SRC_DB" "SELECT pg_size_pretty(pg_table_size('public.data_fact')) || ' heap + ' || pg_size_pretty(pg_indexes_size('public.data_fact')) || ' index'" 2>/dev/null)"

echo
echo "== ferry pg-to-pg benchmark =="
printf '%-18s %s\n' \
  "date" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  "machine" "nproc $(nproc), ${cpu:-unknown cpu}, ${mem:-? RAM}, $(uname -sr)" \
  "postgres" "$(pg_setting server_version) at $PGHOST:$PGPORT (shared_buffers $(pg_setting shared_buffers), maintenance_work_mem $(pg_setting maintenance_work_mem), wal_level $(pg_setting wal_level), synchronous_commit $(pg_setting synchronous_commit))" \
  "client" "$(psql --version), node $(node --version 2>/dev/null)" \
  "ferry" "$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit'), parallel $PARALLEL" \
  "rows" "$SRC_COUNT in $SRC_DB.public.data_fact (${src_size:-?})" \
  "rounds" "$ROUNDS (order rotated each round), contenders: ${CONTENDERS[*]}"
echo

fmt='%-36s %9s %8s %7s %7s  %-24s %s\n'
# shellcheck disable=SC2059
printf "$fmt" "contender" "median s" "Mrows/s" "vs b" "vs a" "rounds (s)" "check"
# shellcheck disable=SC2059
printf "$fmt" "---------" "--------" "-------" "----" "----" "----------" "-----"
for k in "${ROWS_OF[@]}"; do
  base="${k:0:1}"
  [[ "$k" == p* ]] && base="$k"
  [[ " ${CONTENDERS[*]} " == *" $base "* ]] || continue
  if [[ -z "${MEDIAN[$k]:-}" ]]; then
    [[ "$k" == b1 || "$k" == b2 ]] && continue
    # shellcheck disable=SC2059
    printf '%-36s %s\n' "${LABEL[$k]}" "${FAILED[$k]:-no run}"
    continue
  fi
  med="${MEDIAN[$k]}"
  rate="$(awk -v n="$SRC_COUNT" -v s="$med" 'BEGIN { if (s > 0) printf "%.2f", n / s / 1e6; else printf "-" }')"
  vs_b="$(ratio "$med" "${MEDIAN[b]:-}")"
  vs_a="$(ratio "$med" "${MEDIAN[a]:-}")"
  check="${CHECK[$k]:-}"
  if [[ "$k" == b1 || "$k" == b2 ]]; then
    rate="" vs_a="" check=""
    vs_b="$(awk -v p="$med" -v t="${MEDIAN[b]}" 'BEGIN { if (t > 0) printf "%.0f%%", 100 * p / t }')"
  fi
  # shellcheck disable=SC2059
  printf "$fmt" "${LABEL[$k]}" "$med" "$rate" "$vs_b" "$vs_a" "${TIMES[$k]}" "$check"
  if [[ -n "${FAILED[$k]:-}" ]]; then
    printf '%-36s %s\n' "" "(then ${FAILED[$k]} in a later round)"
  fi
done
echo

for k in d "${SWEEP[@]/#/p}"; do
  [[ " ${CONTENDERS[*]} " == *" $k "* ]] || continue
  if [[ -n "${RSS_TREE[$k]:-}" ]]; then
    echo "ferry peak RSS ($k): $(mb "$(peak_kb "$k")") MB  ($(peak_detail "$k"))"
  else
    echo "ferry peak RSS ($k): n/a (no successful ferry run)"
  fi
done

# One line per contender for bench/run-all (only when BENCH_RESULTS is set).
for k in "${ROWS_OF[@]}"; do
  base="${k:0:1}"
  [[ "$k" == p* ]] && base="$k"
  [[ " ${CONTENDERS[*]} " == *" $base "* ]] || continue
  role=tool
  [[ "$k" == b ]] && role=ref
  [[ "$k" == d || "$k" == p* ]] && role=ferry
  workload=pg-pg
  [[ "$k" == p* ]] && workload=pg-pg-parallel
  if [[ -n "${MEDIAN[$k]:-}" ]]; then
    rss=""
    [[ "$role" == ferry ]] && rss="$(peak_kb "$k")"
    emit_result "$workload" "$k" "$role" "$(label_text "${LABEL[$k]}")" "${MEDIAN[$k]}" "${TIMES[$k]}" "$rss" "$SRC_COUNT" "${CHECK[$k]:-ok}"
  elif [[ "$k" != b1 && "$k" != b2 ]]; then
    emit_result "$workload" "$k" "$role" "$(label_text "${LABEL[$k]}")" "" "" "" "$SRC_COUNT" "${FAILED[$k]:-no run}"
  fi
done
