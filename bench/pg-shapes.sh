#!/usr/bin/env bash
# PostgreSQL -> PostgreSQL over two table shapes that are not pg-to-pg.sh's data_fact: a wide,
# text-heavy table and a narrow one at two sizes (to show ferry's memory does not grow with rows).
#
#   bash bench/pg-shapes.sh
#   BENCH_WIDE_ROWS=50000 BENCH_NARROW_ROWS=500000 BENCH_ROUNDS=1 bash bench/pg-shapes.sh   # quick try
#   BENCH_SHAPES="narrow-5m narrow-20m" BENCH_CONTENDERS=f bash bench/pg-shapes.sh        # ferry's memory only
#
# Databases of its own: ferry_bench_shapes_src (the source tables, built once and kept) and
# ferry_bench_shapes_dst (the targets). Source tables, built in SQL when missing or wrong:
#   public.wide       BENCH_WIDE_ROWS rows, 50 columns: id bigint primary key, 40 text/varchar
#                     columns (codes, names, 50-200 character texts with non-ASCII, quotes, some
#                     tabs, newlines and backslashes, some NULLs), int, numeric(12,2), timestamptz,
#                     boolean and date columns
#   public.narrow     (id int primary key, v int), BENCH_NARROW_ROWS rows
#   public.narrow_5m  the first min(5,000,000, BENCH_NARROW_ROWS) rows of narrow
# Workloads (BENCH_SHAPES): wide -> pg-pg-wide, narrow-5m -> pg-pg-narrow-5m, narrow-20m ->
# pg-pg-narrow-20m. Contenders, each copying the whole table into the target database:
#   a  psql COPY TO STDOUT (FORMAT binary) | psql COPY FROM STDIN (FORMAT binary), into a table
#      that has its primary key
#   b  the same pipe into a table without any index, then ALTER TABLE ... ADD PRIMARY KEY (id),
#      timed together (the reference; sub-rows b1 = the COPY, b2 = the key)
#   f  node bin/ferry.js run --fresh --no-progress <job> (full refresh, parallel FERRY_PARALLEL),
#      under bench/peak-rss.mjs, which records its peak memory
# Each round runs every contender once per workload, in an order rotated each round. Before each
# run (not timed): the target table is dropped, ferry's .ferry/ state deleted, and a CHECKPOINT
# taken. After each run (not timed) the target must hold the source's row count, have a primary key
# and the same content fingerprint (count and sum of hashtext(row::text)); otherwise a WARNING is
# printed, the check column says what differs, and the script exits 3. A contender whose command
# fails shows "FAILED (exit N)", is skipped in that workload's later rounds, and also makes the
# script exit 3. Other exits: 1 when the data cannot be prepared, 2 for a bad environment variable.
# See bench/README.md for what each line means.
#
# Environment (all optional):
#   PGHOST PGPORT PGUSER    server to use (default 127.0.0.1, 5432, postgres)
#   BENCH_WIDE_ROWS         rows in public.wide (default 1000000)
#   BENCH_NARROW_ROWS       rows in public.narrow (default 20000000); narrow_5m gets min(5000000, this)
#   BENCH_ROUNDS            rounds (default 3); 0 only prepares the source tables
#   BENCH_SHAPES            workloads, e.g. "wide narrow-20m" (default "wide narrow-5m narrow-20m")
#   BENCH_CONTENDERS        which contenders, e.g. "b f" (default "a b f")
#   FERRY_PARALLEL          ferry's defaults.parallel in the job file (default: ferry's own default on this machine)
#   FERRY_BIN               ferry's entry point, run with node (default bin/ferry.js)
#   BENCH_TIMEOUT           seconds before one contender run is killed (default 0 = never)
#   BENCH_RSS_INTERVAL_MS   ferry memory sampling interval (default 100)
#   BENCH_GNU_TIME          1/0: also measure ferry with GNU time if present (default 1)
#   BENCH_KEEP              1: keep the temp dir (job files, logs, ferry's run logs, memory JSON)
#   BENCH_RESULTS           a file: one tab-separated line per contender and workload is appended
#                           (bench/lib.sh emit_result)

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
source bench/lib.sh

SRC_DB=ferry_bench_shapes_src
DST_DB=ferry_bench_shapes_dst
WIDE_ROWS="${BENCH_WIDE_ROWS:-1000000}"
NARROW_ROWS="${BENCH_NARROW_ROWS:-20000000}"
ROUNDS="${BENCH_ROUNDS:-3}"
PARALLEL="${FERRY_PARALLEL:-$(ferry_default_parallel)}"
FERRY_BIN="${FERRY_BIN:-bin/ferry.js}"
TIMEOUT="${BENCH_TIMEOUT:-0}"
RSS_INTERVAL_MS="${BENCH_RSS_INTERVAL_MS:-100}"
BENCH_SHAPES="${BENCH_SHAPES:-wide narrow-5m narrow-20m}"
read -r -a SHAPES <<<"${BENCH_SHAPES//,/ }"
BENCH_CONTENDERS="${BENCH_CONTENDERS:-a b f}"
read -r -a CONTENDERS <<<"${BENCH_CONTENDERS//,/ }"

require_whole_numbers WIDE_ROWS NARROW_ROWS ROUNDS PARALLEL TIMEOUT RSS_INTERVAL_MS
for v in WIDE_ROWS NARROW_ROWS PARALLEL; do
  ((${!v} > 0)) || { echo "bench: $v must be at least 1, got '${!v}'" >&2; exit 2; }
done
((NARROW_ROWS <= 2147483647)) || { echo "bench: BENCH_NARROW_ROWS must fit narrow's int key" >&2; exit 2; }
((RSS_INTERVAL_MS >= 5)) || { echo "bench: BENCH_RSS_INTERVAL_MS must be at least 5" >&2; exit 2; }
((${#SHAPES[@]})) || { echo "bench: BENCH_SHAPES is empty" >&2; exit 2; }
((${#CONTENDERS[@]})) || { echo "bench: BENCH_CONTENDERS is empty" >&2; exit 2; }
for s in "${SHAPES[@]}"; do
  [[ "$s" =~ ^(wide|narrow-5m|narrow-20m)$ ]] ||
    { echo "bench: unknown shape '$s' (use wide narrow-5m narrow-20m)" >&2; exit 2; }
done
for c in "${CONTENDERS[@]}"; do
  [[ "$c" =~ ^[abf]$ ]] || { echo "bench: unknown contender '$c' (use a b f)" >&2; exit 2; }
done
[[ "$(printf '%s\n' "${SHAPES[@]}" | sort | uniq -d)" == "" ]] || { echo "bench: a shape is named twice" >&2; exit 2; }
[[ "$(printf '%s\n' "${CONTENDERS[@]}" | sort | uniq -d)" == "" ]] || { echo "bench: a contender is named twice" >&2; exit 2; }

NARROW5_ROWS=$((NARROW_ROWS < 5000000 ? NARROW_ROWS : 5000000))
declare -A TABLE=([wide]=wide [narrow-5m]=narrow_5m [narrow-20m]=narrow)
declare -A WANT_ROWS=([wide]="$WIDE_ROWS" [narrow-5m]="$NARROW5_ROWS" [narrow-20m]="$NARROW_ROWS")
declare -A NCOLS=([wide]=50 [narrow_5m]=2 [narrow]=2)

declare -A LABEL=(
  [a]="a  binary COPY -> table with PK"
  [b]="b  binary COPY -> no PK, + ADD PK"
  [b1]="     b1 binary COPY (no index)"
  [b2]="     b2 ALTER TABLE ADD PRIMARY KEY"
  [f]="f  ferry run (parallel $PARALLEL)"
)
# Keyed by "shape:contender" (contender a, b, b1, b2 or f).
declare -A TIMES=()   # -> "secs secs ..." (one per successful round)
declare -A CHECK=()   # -> "ok" or what was wrong (the first problem seen)
declare -A SFAILED=() # -> "FAILED (exit N)"
declare -A FAILED=()  # run_rounds/record_failure's, per contender, reset for each shape
declare -A RSS_TREE=() RSS_HWM=() RSS_GNU=() CPU=()  # measured's, keyed "f_<shape>"
declare -A SRC_COUNT=() SRC_PRINT=() SRC_HEAP=() SRC_DESC=()  # per shape
declare -A RUNLOG=()  # shape -> summary of ferry's last run log
BAD=0                 # 1 once a run failed or a check did

set_timeout_and_gnu_time

make_work_dir ferry-bench-shapes

PG_URL="postgres://${PGUSER}@${PGHOST}:${PGPORT}"

# ---------------------------------------------------------------- prepare ---

# DDL of a benchmark table. Usage: shape_ddl TABLE pk|nopk   (TABLE: wide, narrow or narrow_5m)
shape_ddl() {
  local t="$1" pk=""
  [[ "${2:-pk}" == pk ]] && pk=" PRIMARY KEY"
  if [[ "$t" == wide ]]; then
    cat <<SQL
CREATE TABLE public.wide (
  id bigint${pk},
  country_code varchar(2), currency varchar(3), status text, sku varchar(16), lang varchar(8),
  region_code text, flag varchar(1), postcode varchar(10), short_hash varchar(8), quarter text,
  first_name text, last_name text, email varchar(120), phone varchar(24), city text, street text,
  company text, job_title text, url text, ip_addr varchar(15), user_agent text, tags text,
  ref_uuid varchar(36), payload_text text, hex_key varchar(32),
  description text, notes text, comment text, address text, intl_text text, summary varchar(200),
  review text, path text, log_line text, keywords text, remark text, headline varchar(120),
  body text, footer text, memo text,
  qty int, score int, price numeric(12,2), discount numeric(12,2), created_at timestamptz,
  updated_at timestamptz, is_active boolean, birth_date date, ship_date date
)
SQL
  else
    echo "CREATE TABLE public.$t (id int${pk}, v int)"
  fi
}

# A 50-200 character text: four sentences of the bank picked from the id, then the row's md5,
# cut to MIN + (id * MUL) % SPAN characters. Usage: long_text P1 P2 P3 P4 MIN SPAN MUL
long_text() {
  printf "left(w.s[1 + ((g.id * %d) %% 16)::int] || ' ' || w.s[1 + ((g.id * %d + 5) %% 16)::int] || ' ' || w.s[1 + ((g.id * %d + 11) %% 16)::int] || ' ' || w.s[1 + ((g.id / %d) %% 16)::int] || ' ' || k.h2, %d + ((g.id * %d) %% %d)::int)" \
    "$1" "$2" "$3" "$4" "$5" "$7" "$6"
}

# INSERT filling public.wide with rows 1..:rows (a psql variable). Every value is a function of
# the id, so the table's content is the same each time it is built.
wide_insert_sql() {
  cat <<'SQL'
INSERT INTO public.wide
SELECT
  g.id,
  w.cc[1 + (g.id % 12)::int],
  w.cur[1 + ((g.id / 3) % 8)::int],
  w.st[1 + ((g.id * 7) % 5)::int],
  'SKU-' || lpad(((g.id * 7919) % 1000000)::text, 6, '0') || '-' || upper(substr(k.h1, 1, 2)),
  w.lang[1 + ((g.id * 3) % 9)::int],
  'R' || (g.id % 97),
  CASE WHEN g.id % 11 = 0 THEN NULL ELSE substr('YN?', 1 + (g.id % 3)::int, 1) END,
  lpad(((g.id * 31337) % 99999)::text, 5, '0'),
  substr(k.h1, 1, 8),
  'Q' || (1 + g.id % 4) || '-' || (2015 + g.id % 10),
  w.fn[1 + (g.id % 20)::int],
  w.ln[1 + ((g.id / 20) % 20)::int],
  'user' || g.id || '.' || substr(k.h1, 9, 6) || '@example.' || w.tld[1 + (g.id % 6)::int],
  '+' || (1 + g.id % 98) || ' ' || lpad(((g.id * 7349) % 1000000000)::text, 9, '0'),
  w.city[1 + ((g.id * 5) % 16)::int],
  (1 + g.id % 999) || ' ' || w.street[1 + ((g.id / 7) % 10)::int],
  CASE WHEN g.id % 13 = 0 THEN NULL ELSE w.co[1 + ((g.id * 3) % 10)::int] END,
  w.job[1 + ((g.id / 11) % 10)::int],
  'https://example.com/p/' || substr(k.h2, 1, 10) || '?ref=' || (g.id % 1000) || '&lang=' || w.lang[1 + (g.id % 9)::int],
  ((g.id * 37) % 256) || '.' || ((g.id / 256) % 256) || '.' || ((g.id / 65536) % 256) || '.' || (1 + g.id % 254),
  w.ua[1 + (g.id % 4)::int],
  'tag' || (g.id % 50) || ',tag' || (g.id % 7) || ',' || w.st[1 + (g.id % 5)::int],
  substr(k.h1, 1, 8) || '-' || substr(k.h1, 9, 4) || '-' || substr(k.h1, 13, 4) || '-' || substr(k.h1, 17, 4) || '-' || substr(k.h1, 21, 12),
  '{"id":' || g.id || ',"k":"' || substr(k.h2, 1, 12) || '","q":"say \"hi\"","n":' || round((g.id % 1000) / 10.0, 1) || '}',
  k.h1,
  @description@,
  CASE WHEN g.id % 7 = 3 THEN NULL
       WHEN g.id % 50 = 0 THEN 'first line' || E'\n' || 'second' || E'\t' || 'tabbed, C:\temp\new\x41 and \N' || E'\r\n' || @notes_tail@
       ELSE @notes@ END,
  'Customer said: "' || @comment@ || '" - it''s noted.',
  (1 + g.id % 999) || ' ' || w.street[1 + ((g.id / 7) % 10)::int]
    || CASE WHEN g.id % 4 = 0 THEN E'\n' ELSE ', ' END || lpad(((g.id * 31337) % 99999)::text, 5, '0') || ' ' || w.city[1 + ((g.id * 5) % 16)::int]
    || CASE WHEN g.id % 100 = 1 THEN E'\r\n' || 'c/o ' || w.co[1 + (g.id % 10)::int] ELSE '' END,
  @intl@,
  @summary@,
  CASE WHEN g.id % 5 = 0 THEN NULL ELSE @review@ END,
  CASE WHEN g.id % 3 = 0 THEN 'C:\Users\' || w.fn[1 + (g.id % 20)::int] || '\Documents\file_' || g.id || '.txt'
       ELSE '/home/u' || (g.id % 500) || '/docs/' || substr(k.h2, 1, 8) || '.pdf' END,
  CASE WHEN g.id % 20 = 0 THEN '2024-05-01T12:00:00Z' || E'\t' || 'WARN' || E'\t' || @log@
       ELSE 'INFO ' || @log@ END,
  'k' || (g.id % 100) || ', k' || (g.id % 33) || ', ' || w.city[1 + (g.id % 16)::int] || ', ' || w.job[1 + (g.id % 10)::int],
  CASE WHEN g.id % 10 < 7 THEN NULL ELSE @remark@ END,
  @headline@,
  @body@,
  @footer@,
  CASE WHEN g.id % 5 = 1 THEN NULL ELSE @memo@ END,
  ((g.id * 13) % 1000)::int,
  ((g.id * 2654435761) % 2147483647 - 1073741823)::int,
  round(((g.id * 7919) % 10000000) / 100.0, 2),
  CASE WHEN g.id % 9 = 0 THEN NULL ELSE round(((g.id * 31) % 2001 - 1000) / 100.0, 2) END,
  timestamptz '2015-01-01 00:00:00+00' + ((g.id * 37) % 315360000) * interval '1 second' + (g.id % 1000000) * interval '1 microsecond',
  CASE WHEN g.id % 4 = 0 THEN NULL ELSE timestamptz '2020-01-01 00:00:00+00' + ((g.id * 53) % 157680000) * interval '1 second' END,
  CASE WHEN g.id % 97 = 0 THEN NULL ELSE g.id % 3 <> 0 END,
  date '1950-01-01' + ((g.id * 13) % 20000)::int,
  CASE WHEN g.id % 6 = 0 THEN NULL ELSE date '2015-01-01' + ((g.id * 17) % 4000)::int END
FROM generate_series(1, :rows::bigint) AS g(id)
CROSS JOIN LATERAL (SELECT md5(g.id::text) AS h1, md5('w' || g.id::text) AS h2) AS k
CROSS JOIN (SELECT
  ARRAY['DE','FR','US','JP','BR','IN','CN','GB','ES','IT','PL','SE'] AS cc,
  ARRAY['EUR','USD','JPY','GBP','BRL','INR','CNY','CHF'] AS cur,
  ARRAY['active','inactive','pending','closed','suspended'] AS st,
  ARRAY['en','de','fr','ja','pt-BR','zh-CN','es','pl','sv'] AS lang,
  ARRAY['José','Zoë','Łukasz','Søren','François','Ana','John','Björk','Nguyễn','Юлия',
        '李娜','Seán','Ayşe','Mårten','Chloé','Kwame','O''Neil','Priya','Ömer','Jürgen'] AS fn,
  ARRAY['Müller','García','O''Brien','D''Angelo','Smith','Nowak','Сидоров','Tanaka','Øster','Kowalski',
        'Dubois','Rossi','Yılmaz','Nakamura','van der Berg','MacLeod','Ng','Fernández','Björnsson','Papadopoulos'] AS ln,
  ARRAY['com','org','de','fr','co.uk','jp'] AS tld,
  ARRAY['São Paulo','Zürich','Kraków','Malmö','Reykjavík','東京','Москва','New York',
        'Québec','İstanbul','Ålesund','Córdoba','München','Łódź','Αθήνα','Cluj-Napoca'] AS city,
  ARRAY['Main St.','Hauptstraße','Rue de l''Église','Calle Mayor','Kungsgatan','ulica Długa',
        'Via Roma','Baker Street','Elm Avenue','Nørregade'] AS street,
  ARRAY['Acme Corp','O''Reilly & Sons','Smith "Bros" Ltd','Müller GmbH','Société Générale',
        '株式会社テスト','Ørsted A/S','Foo, Bar & Baz LLC','Café "Le Petit"','Zeta <zeta@example.org>'] AS co,
  ARRAY['Engineer','Senior Data Analyst','Head of Sales (EMEA)','Chef de projet','Buchhalterin',
        'CTO','Support agent, 2nd level','Designer','Product "Owner"','Intern'] AS job,
  ARRAY['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
        'curl/8.5.0',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'] AS ua,
  ARRAY['The quick brown fox jumps over the lazy dog.',
        'Grüße aus Köln: naïve café, crème brûlée à la carte.',
        'Zażółć gęślą jaźń - Łódź, Kraków, Gdańsk.',
        '日本語のテキストも少し含まれています。',
        'Привет, мир! Съешь же ещё этих мягких булок.',
        'He said "it''s fine" and left at 5 o''clock.',
        'Price: €12.50 / £10.99 / ¥1500 (approx.)',
        'Ελληνικά: Γειά σου Κόσμε, καλημέρα.',
        'Señor Muñoz visitó São Paulo y Reykjavík.',
        'العربية: مرحبا بالعالم',
        'Emoji: 🚀 ✅ 🎉 - shipped; 100% done.',
        'Lorem ipsum dolor sit amet, consectetur adipiscing elit.',
        'Order #12345 shipped via UPS; tracking pending.',
        'Customer asked about the 30% discount (code SAVE30).',
        'Null-looking text: NULL, \N and N/A are just strings here.',
        'Plain ASCII sentence, number sixteen, nothing special.'] AS s
) AS w;
SQL
}

wide_insert() {
  local sql
  sql="$(wide_insert_sql)"
  sql="${sql//@description@/$(long_text 7 11 13 17 50 151 13)}"
  sql="${sql//@notes@/$(long_text 3 5 29 19 50 71 7)}"
  sql="${sql//@notes_tail@/$(long_text 5 3 7 23 20 31 11)}"
  sql="${sql//@comment@/$(long_text 11 7 3 29 30 71 17)}"
  sql="${sql//@intl@/$(long_text 13 17 19 7 50 101 19)}"
  sql="${sql//@summary@/$(long_text 17 19 23 3 40 81 23)}"
  sql="${sql//@review@/$(long_text 19 23 29 5 40 81 29)}"
  sql="${sql//@log@/$(long_text 23 29 31 11 30 71 31)}"
  sql="${sql//@remark@/$(long_text 29 31 37 13 50 51 37)}"
  sql="${sql//@headline@/$(long_text 31 37 41 2 20 71 41)}"
  sql="${sql//@body@/$(long_text 37 41 43 31 60 141 43)}"
  sql="${sql//@footer@/$(long_text 41 43 47 37 30 51 47)}"
  sql="${sql//@memo@/$(long_text 43 47 53 41 50 151 53)}"
  printf '%s\n' "$sql"
}

# v: a fixed pseudo-random int of the id, so narrow and narrow_5m agree on their common rows.
narrow_insert() {
  echo "INSERT INTO public.$1 SELECT g, ((g::bigint * 2654435761) % 4294967296 - 2147483648)::int FROM generate_series(1, :rows) AS g;"
}

# "N rows, primary key yes|no, N columns" of a source table, or empty when it is missing.
table_state() {
  local t="$1"
  [[ "$(pg_val "$SRC_DB" "SELECT to_regclass('public.$t') IS NOT NULL" 2>/dev/null)" == t ]] || return 0
  pg_val "$SRC_DB" "SELECT (SELECT count(*) FROM public.$t) || ' rows, primary key '
    || CASE WHEN EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'public.$t'::regclass AND contype = 'p')
            THEN 'yes' ELSE 'no' END || ', '
    || (SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped)
    || ' columns'"
}

# Builds public.TABLE with ROWS rows unless it already holds exactly that many, has a primary key
# and the expected columns. Usage: prepare_table TABLE ROWS
prepare_table() {
  local t="$1" rows="$2" state
  state="$(table_state "$t")" || state=""
  local want="$rows rows, primary key yes, ${NCOLS[$t]} columns"
  if [[ "$state" == "$want" ]]; then
    log "source $SRC_DB.public.$t already holds $rows rows"
    return 0
  fi
  log "generating $rows rows in $SRC_DB.public.$t (found: ${state:-no table}; want: $want)"
  local t0 t1
  t0="$(now)"
  pg "$SRC_DB" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS public.$t" || return 1
  pg "$SRC_DB" -c "$(shape_ddl "$t" nopk)" || return 1
  {
    echo "SET synchronous_commit = off;"
    if [[ "$t" == wide ]]; then wide_insert; else narrow_insert "$t"; fi
  } | pg "$SRC_DB" -v rows="$rows" || return 1
  log "adding primary key, VACUUM (FREEZE, ANALYZE) public.$t"
  pg "$SRC_DB" -c "SET maintenance_work_mem = '256MB'" -c "ALTER TABLE public.$t ADD PRIMARY KEY (id)" || return 1
  pg "$SRC_DB" -c "VACUUM (FREEZE, ANALYZE) public.$t" || return 1
  t1="$(now)"
  log "public.$t ready in $(elapsed "$t0" "$t1") s"
}

if ! pg_val postgres "SELECT 1" >/dev/null; then
  echo "bench: cannot reach PostgreSQL at $PGHOST:$PGPORT as $PGUSER" >&2
  exit 1
fi
ensure_db "$SRC_DB" || { echo "bench: cannot create $SRC_DB" >&2; exit 1; }
ensure_db "$DST_DB" || { echo "bench: cannot create $DST_DB" >&2; exit 1; }
for s in "${SHAPES[@]}"; do
  prepare_table "${TABLE[$s]}" "${WANT_ROWS[$s]}" || { echo "bench: preparing public.${TABLE[$s]} failed" >&2; exit 1; }
done
if ((ROUNDS == 0)); then
  log "BENCH_ROUNDS=0: source tables prepared (${SHAPES[*]}), nothing timed"
  exit 0
fi
[[ " ${CONTENDERS[*]} " == *" f "* ]] && warn_if_stale_build f

# Count and content fingerprint of a table: "rows sum-of-row-hashes". Usage: fingerprint DB TABLE
fingerprint() {
  pg_val "$1" "SELECT count(*) || ' ' || coalesce(sum(hashtext(t::text)::bigint), 0) FROM public.$2 AS t"
}

# ------------------------------------------------------------ contenders ---

# Set for each workload: SHAPE (wide, narrow-5m, narrow-20m), T (its table), JOB (ferry's job file).

drop_target() {
  pg "$DST_DB" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS public.$T"
}

pipe_binary() {
  # shellcheck disable=SC2016 # $1..$3 expand in the inner bash
  "${TO[@]}" bash -c 'set -o pipefail
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "COPY public.$3 TO STDOUT (FORMAT binary)" |
      psql -X -q -v ON_ERROR_STOP=1 -d "$2" -c "COPY public.$3 FROM STDIN (FORMAT binary)"' \
    _ "$SRC_DB" "$DST_DB" "$T"
}

# Each run_X sets RUN_RC and RUN_SECS (b also RUN_B1, RUN_B2). Only the copy commands are timed.
run_a() {
  # shellcheck disable=SC2015 # the || branch is meant for a failure of either
  drop_target && pg "$DST_DB" -c "$(shape_ddl "$T" pk)" || { RUN_RC=90; return; }
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
  drop_target && pg "$DST_DB" -c "$(shape_ddl "$T" nopk)" || { RUN_RC=90; return; }
  checkpoint
  copy_then_add_pk "$DST_DB" "public.$T" id
}

# ferry under bench/peak-rss.mjs (measured), timed from spawn to exit.
run_f() {
  local round="$1"
  drop_target || { RUN_RC=90; return; }
  # A staging table left by an interrupted run would otherwise stay for good.
  pg "$DST_DB" -At -c "SELECT format('DROP TABLE IF EXISTS %I.%I', schemaname, tablename) FROM pg_tables
                       WHERE tablename LIKE '\_ferry\_stage\_%'" | pg "$DST_DB" || { RUN_RC=90; return; }
  rm -rf "$(dirname "$JOB")/.ferry"
  checkpoint
  measured "f_$SHAPE" "$round" node "$FERRY_BIN" run --fresh --no-progress "$JOB"
  # Keep the run log of every round (the .ferry/ folder goes before the next run).
  local f
  for f in "$(dirname "$JOB")"/.ferry/*/runs/*.log.jsonl "$(dirname "$JOB")"/.ferry/runs/*.log.jsonl; do
    [[ -f "$f" ]] && cp "$f" "$WORK/logs/$SHAPE.f.$round.run.jsonl"
  done
}

# Row count, primary key and fingerprint of the target against the source's.
check_target() {
  local c="$1" key="$SHAPE:$1" got pk notes=()
  got="$(fingerprint "$DST_DB" "$T" 2>/dev/null)" || got=""
  if [[ -z "$got" ]]; then
    notes+=("rows none!=${SRC_COUNT[$SHAPE]}")
  elif [[ "${got%% *}" != "${SRC_COUNT[$SHAPE]}" ]]; then
    notes+=("rows ${got%% *}!=${SRC_COUNT[$SHAPE]}")
  elif [[ "$got" != "${SRC_PRINT[$SHAPE]}" ]]; then
    notes+=("content differs")
  fi
  pk="$(pg_val "$DST_DB" "SELECT EXISTS (SELECT 1 FROM pg_constraint
          WHERE conrelid = to_regclass('public.$T') AND contype = 'p')" 2>/dev/null)" || pk=""
  [[ "$pk" == t ]] || notes+=("no PK")
  local note="ok"
  if ((${#notes[@]})); then
    note="${notes[*]}"
    BAD=1
    warn "$SHAPE $c: CHECK FAILED: $DST_DB.public.$T: $note (source: ${SRC_PRINT[$SHAPE]})"
  fi
  if [[ -z "${CHECK[$key]:-}" || "${CHECK[$key]}" == ok ]]; then CHECK[$key]="$note"; fi
}

run_one() {
  local c="$1" round="$2" key="$SHAPE:$1" logf="$WORK/logs/$SHAPE.$1.$2.log"
  RUN_RC=0 RUN_SECS="" RUN_B1="" RUN_B2=""
  log "$SHAPE round $round/$ROUNDS: ${LABEL[$c]}"
  "run_$c" "$round" >"$logf" 2>&1
  if ((RUN_RC != 0)); then
    BAD=1
    record_failure "$c" "$logf"
    drop_target >/dev/null 2>&1
    return
  fi
  TIMES[$key]+="${TIMES[$key]:+ }$RUN_SECS"
  if [[ "$c" == b ]]; then
    TIMES[$SHAPE:b1]+="${TIMES[$SHAPE:b1]:+ }$RUN_B1"
    TIMES[$SHAPE:b2]+="${TIMES[$SHAPE:b2]:+ }$RUN_B2"
  fi
  check_target "$c"
  log "  $c: $RUN_SECS s${RUN_B1:+ (copy $RUN_B1 s + add PK $RUN_B2 s)}, check ${CHECK[$key]}"
  # Not left for autovacuum to work on while the next contender runs.
  drop_target >/dev/null
}

# A summary of ferry's run log (.ferry/.../runs/<run>.log.jsonl) of one round.
runlog_summary() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const lines = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const t = (e) => Date.parse(e.ts) / 1000;
    const first = (ev) => lines.find((l) => l.event === ev);
    const chunks = lines.filter((l) => l.event === "chunk-done");
    const start = first("run-start"), sstart = first("stream-start"), sdone = first("stream-done"), rdone = first("run-done");
    if (!start || !sdone || chunks.length === 0) { console.log("incomplete run log"); process.exit(0); }
    const ms = chunks.map((c) => c.ms).sort((a, b) => a - b);
    const rows = chunks.map((c) => c.rows).sort((a, b) => a - b);
    const lastChunk = Math.max(...chunks.map(t));
    const retries = lines.filter((l) => l.event === "chunk-retry" || l.event === "step-retry").length;
    const f = (x) => x.toFixed(1);
    console.log(
      `${chunks.length} chunks of ${rows[0]}-${rows[rows.length - 1]} rows, ` +
      `pass-through ${sdone.passThrough ?? "none"}; chunk ms min/median/max ${ms[0]}/${ms[ms.length >> 1]}/${ms[ms.length - 1]}; ` +
      `run-start to stream-start ${f(t(sstart ?? start) - t(start))} s, loading ${f(lastChunk - t(sstart ?? start))} s, ` +
      `last chunk to stream-done (key, swap, counts) ${f(t(sdone) - lastChunk)} s; run ${rdone ? f(rdone.seconds) : "?"} s` +
      (retries ? `; ${retries} retries` : ""));
  ' "$1" 2>/dev/null || echo "unreadable run log"
}

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
for SHAPE in "${SHAPES[@]}"; do
  T="${TABLE[$SHAPE]}"
  mkdir -p "$WORK/$SHAPE"
  JOB="$WORK/$SHAPE/job.yaml"
  cat >"$JOB" <<YAML
source: $PG_URL/$SRC_DB
target: $PG_URL/$DST_DB
defaults:
  mode: full-refresh
  parallel: ${PARALLEL}
streams:
  public.${T}: {}
YAML
  log "$SHAPE: fingerprint of the source public.$T (also reads it into the page cache)"
  print="$(fingerprint "$SRC_DB" "$T")" || { echo "bench: cannot fingerprint public.$T" >&2; exit 1; }
  SRC_PRINT[$SHAPE]="$print"
  SRC_COUNT[$SHAPE]="${print%% *}"
  SRC_HEAP[$SHAPE]="$(pg_val "$SRC_DB" "SELECT pg_table_size('public.$T')")"
  SRC_DESC[$SHAPE]="$(pg_val "$SRC_DB" "SELECT pg_size_pretty(pg_relation_size('public.$T')) || ' heap + '
      || pg_size_pretty(pg_table_size('public.$T') - pg_relation_size('public.$T')) || ' TOAST/FSM/VM + '
      || pg_size_pretty(pg_indexes_size('public.$T')) || ' index; '
      || coalesce((SELECT round(avg(pg_column_size(t.*))) FROM (SELECT * FROM public.$T LIMIT 10000) t)::text, '?')
      || ' B/row'")"
  FAILED=()
  run_rounds
  for c in "${!FAILED[@]}"; do SFAILED[$SHAPE:$c]="${FAILED[$c]}"; done
  last="$(find "$WORK/logs" -name "$SHAPE.f.*.run.jsonl" 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$last" ]] && RUNLOG[$SHAPE]="round $(basename "$last" | cut -d. -f3): $(runlog_summary "$last")"
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

# --------------------------------------------------------------- report ---

declare -A MEDIAN=()
for k in "${!TIMES[@]}"; do
  # shellcheck disable=SC2086
  MEDIAN[$k]="$(median ${TIMES[$k]})"
done

# 20000000 -> 20M, 500000 -> 500k, 1500000 -> 1.5M
short_rows() {
  awk -v n="$1" 'BEGIN {
    if (n >= 1e6) { s = sprintf("%.1f", n / 1e6); sub(/\.0$/, "", s); print s "M" }
    else if (n >= 1e3) { s = sprintf("%.1f", n / 1e3); sub(/\.0$/, "", s); print s "k" }
    else print n }'
}

cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"

echo
echo "== ferry pg-shapes benchmark (PostgreSQL -> PostgreSQL, wide and narrow tables) =="
printf '%-14s %s\n' \
  "date" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  "machine" "nproc $(nproc), ${cpu:-unknown cpu}, ${mem:-? RAM}, $(uname -sr)" \
  "postgres" "$(pg_setting server_version) at $PGHOST:$PGPORT (shared_buffers $(pg_setting shared_buffers), maintenance_work_mem $(pg_setting maintenance_work_mem), max_wal_size $(pg_setting max_wal_size), wal_level $(pg_setting wal_level), synchronous_commit $(pg_setting synchronous_commit))" \
  "client" "$(psql --version), node $(node --version 2>/dev/null)" \
  "ferry" "$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes'), parallel $PARALLEL" \
  "databases" "$SRC_DB -> $DST_DB" \
  "rounds" "$ROUNDS (order rotated each round), contenders: ${CONTENDERS[*]}" \
  "check" "row count, primary key, and count + sum(hashtext(row::text)) against the source" \
  "load average" "$LOAD_START before the rounds, $LOAD_END after (other work on the machine skews the times)"

fmt='%-36s %9s %8s %8s %7s %8s  %-26s %s\n'
for SHAPE in "${SHAPES[@]}"; do
  T="${TABLE[$SHAPE]}"
  echo
  echo "-- pg-pg-$SHAPE: public.$T, ${SRC_COUNT[$SHAPE]} rows, ${NCOLS[$T]} columns (${SRC_DESC[$SHAPE]})"
  # shellcheck disable=SC2059
  printf "$fmt" "contender" "median s" "Mrows/s" "MB/s" "vs b" "RSS MB" "rounds (s)" "check"
  # shellcheck disable=SC2059
  printf "$fmt" "---------" "--------" "-------" "----" "----" "------" "----------" "-----"
  for k in a b b1 b2 f; do
    base="${k:0:1}"
    [[ " ${CONTENDERS[*]} " == *" $base "* ]] || continue
    key="$SHAPE:$k"
    if [[ -z "${MEDIAN[$key]:-}" ]]; then
      [[ "$k" == b1 || "$k" == b2 ]] && continue
      printf '%-36s %s\n' "${LABEL[$k]}" "${SFAILED[$key]:-no run}"
      continue
    fi
    med="${MEDIAN[$key]}"
    rate="$(awk -v n="${SRC_COUNT[$SHAPE]}" -v s="$med" 'BEGIN { if (s > 0) printf "%.2f", n / s / 1e6; else printf "-" }')"
    mbs="$(awk -v b="${SRC_HEAP[$SHAPE]}" -v s="$med" 'BEGIN { if (s > 0) printf "%.1f", b / 1048576 / s; else printf "-" }')"
    vs_b="$(ratio "$med" "${MEDIAN[$SHAPE:b]:-}")"
    check="${CHECK[$key]:-}"
    rss=""
    [[ "$k" == f ]] && { rss="$(peak_kb "f_$SHAPE")"; rss="${rss:+$(mb "$rss")}"; }
    if [[ "$k" == b1 || "$k" == b2 ]]; then
      rate="" mbs="" check=""
      vs_b="$(awk -v p="$med" -v t="${MEDIAN[$SHAPE:b]}" 'BEGIN { if (t > 0) printf "%.0f%%", 100 * p / t }')"
    fi
    # shellcheck disable=SC2059
    printf "$fmt" "${LABEL[$k]}" "$med" "$rate" "$mbs" "$vs_b" "$rss" "${TIMES[$key]}" "$check"
    if [[ -n "${SFAILED[$key]:-}" ]]; then
      printf '%-36s %s\n' "" "(then ${SFAILED[$key]} in a later round)"
    fi
  done
done
echo
echo "MB/s: the source table's pg_table_size (heap + TOAST) / median. vs b: median / b's median"
echo "(b1, b2: their share of b). RSS MB: ferry's peak over the rounds (details below)."

if [[ " ${CONTENDERS[*]} " == *" f "* ]]; then
  echo
  goal() { awk -v k="$1" 'BEGIN { print (k / 1024 < 300 ? "met" : "NOT met") }'; }
  p5="$(peak_kb f_narrow-5m)"
  p20="$(peak_kb f_narrow-20m)"
  if [[ -n "$p5" && -n "$p20" ]]; then
    r="$(awk -v a="$p20" -v b="$p5" 'BEGIN { printf "%.2f", a / b }')"
    met="$(awk -v a="$p20" -v b="$p5" 'BEGIN { print (a / b <= 1.25 && a / 1024 < 300 && b / 1024 < 300 ? "met" : "NOT met") }')"
    echo "ferry peak RSS: narrow $(short_rows "${SRC_COUNT[narrow-5m]}") $(mb "$p5") MB, narrow $(short_rows "${SRC_COUNT[narrow-20m]}") $(mb "$p20") MB (ratio $r; goal: flat (ratio <= 1.25, as bench/summary.mjs) and < 300 MB: $met)"
  elif [[ -n "$p5$p20" ]]; then
    for s in narrow-5m narrow-20m; do
      p="$(peak_kb "f_$s")"
      [[ -n "$p" ]] && echo "ferry peak RSS: narrow $(short_rows "${SRC_COUNT[$s]}") $(mb "$p") MB (goal < 300 MB: $(goal "$p")); run both narrow shapes for the flatness ratio"
    done
  fi
  pw="$(peak_kb f_wide)"
  [[ -n "$pw" ]] && echo "ferry peak RSS: wide $(short_rows "${SRC_COUNT[wide]}") $(mb "$pw") MB (goal < 300 MB: $(goal "$pw"))"
  for SHAPE in "${SHAPES[@]}"; do
    p="$(peak_kb "f_$SHAPE")"
    [[ -n "$p" ]] || continue
    # shellcheck disable=SC2086
    cpus="$([[ -n "${CPU[f_$SHAPE]:-}" ]] && echo "; cpu s (user+sys, GNU time) per round: ${CPU[f_$SHAPE]}")"
    echo "  f $SHAPE: max over $(wc -w <<<"${RSS_TREE[f_$SHAPE]}") round(s); $(peak_detail "f_$SHAPE")$cpus"
  done
  for SHAPE in "${SHAPES[@]}"; do
    [[ -n "${RUNLOG[$SHAPE]:-}" ]] && echo "  f $SHAPE run log, ${RUNLOG[$SHAPE]}"
  done
fi

# Machine-readable lines for bench/run-all (only when BENCH_RESULTS is set); the label without
# its contender id (bench/lib.sh has label_text; an older lib.sh gets this copy).
declare -F label_text >/dev/null || label_text() { sed -E 's/^ *[a-z][a-z0-9+]* +//' <<<"$1"; }
for SHAPE in "${SHAPES[@]}"; do
  for k in a b b1 b2 f; do
    base="${k:0:1}"
    [[ " ${CONTENDERS[*]} " == *" $base "* ]] || continue
    key="$SHAPE:$k"
    case "$k" in b) role=ref ;; f) role=ferry ;; *) role=tool ;; esac
    check="${CHECK[$SHAPE:$base]:-}"
    fail="${SFAILED[$SHAPE:$base]:-}"
    if [[ -z "${MEDIAN[$key]:-}" ]]; then
      [[ "$k" == b1 || "$k" == b2 ]] && [[ -z "$fail" ]] && continue
      check="${fail:-no run}"
    elif [[ -n "$fail" ]]; then
      check="${check:+$check; }then $fail"
    fi
    rss=""
    [[ "$k" == f ]] && rss="$(peak_kb "f_$SHAPE")"
    emit_result "pg-pg-$SHAPE" "$k" "$role" "$(label_text "${LABEL[$k]}")" "${MEDIAN[$key]:-}" "${TIMES[$key]:-}" "$rss" \
      "${SRC_COUNT[$SHAPE]}" "$check"
  done
done

if ((BAD)); then
  echo
  echo "bench: FAILED: a run failed or its target did not match the source (see the check column)" >&2
  exit 3
fi
