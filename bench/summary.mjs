// Prints bench/run-all's one table from the tab-separated lines the bench scripts append with
// `emit_result` (bench/lib.sh): workload, id, role, label, median_s, rounds_s, peak_rss_kb, rows, check.
//
//   node bench/summary.mjs results.tsv
//
// Each ratio divides a contender's median by its workload's `ref` row, measured in the same run.
// The goals are the performance issue's; a goal that was not met says so, and the exit code is 0
// either way (a benchmark reports, it does not fail on a slow machine). Exit 3 when a row's check
// failed (wrong rows or content), 1 when the file cannot be read.
import { readFileSync } from 'node:fs';

const RSS_LIMIT_MB = 300;
/** Flat: the 20M-row run may take at most this much more memory than the 5M-row run. */
const FLAT_RATIO = 1.25;

/** What ferry's row must show against its workload's reference, when the issue sets a goal. */
const GOALS = {
  'pg-pg': { max: 1.2, text: 'within 1.2x of unindexed binary COPY + ADD PK' },
  'mysql-pg': { max: 0.5, text: 'at least 2x faster than pgloader' },
  'mysql-mysql': { max: 1.0, text: 'faster than mydumper/myloader (2 threads)', strict: true },
};

const ORDER = [
  'pg-pg',
  'pg-pg-parallel',
  'mysql-pg',
  'mysql-mysql',
  'pg-lake',
  'pg-pg-wide',
  'pg-pg-narrow-5m',
  'pg-pg-narrow-20m',
];

const file = process.argv[2];
let text;
try {
  text = readFileSync(file, 'utf8');
} catch (err) {
  console.error(`summary: cannot read ${file}: ${err.message}`);
  process.exit(1);
}
const dash = (v) => (v === '-' || v === undefined || v === '' ? null : v);
const rows = text
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [workload, id, role, label, median, rounds, rss, n, check] = l.split('\t');
    return {
      workload,
      id,
      role,
      label,
      median: dash(median) === null ? null : Number(median),
      rounds: dash(rounds) ?? '',
      rssMb: dash(rss) === null ? null : Number(rss) / 1024,
      rows: dash(n) === null ? null : Number(n),
      check: check ?? '-',
    };
  });

const workloads = [...new Set(rows.map((r) => r.workload))].sort((a, b) => {
  const ia = ORDER.indexOf(a);
  const ib = ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
});

const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
const pad = (s, w, right = false) => (right ? String(s).padStart(w) : String(s).padEnd(w));
const header = ['workload', 'contender', 'median s', 'Mrows/s', 'vs ref', 'RSS MB', 'check', 'rounds (s)'];
const widths = [17, 40, 9, 8, 8, 7, 10, 0];
const line = (cells) =>
  cells
    .map((c, i) => (i >= 2 && i <= 5 ? pad(c, widths[i], true) : pad(c, widths[i])))
    .join(' ')
    .trimEnd();

const out = [line(header), line(header.map((h) => '-'.repeat(h.length)))];
const verdicts = [];
let badCheck = false;
for (const w of workloads) {
  const ws = rows.filter((r) => r.workload === w);
  // The parallel sweep compares ferry with itself at --parallel 1.
  const ref = w === 'pg-pg-parallel' ? ws.find((r) => r.id === 'p1') : ws.find((r) => r.role === 'ref');
  for (const r of ws) {
    const sub = /^[a-z]\d$/.test(r.id) && !/^p\d/.test(r.id);
    const vs = r.median !== null && ref?.median ? r.median / ref.median : null;
    const rate = r.median && r.rows && !sub ? r.rows / r.median / 1e6 : null;
    if (r.check !== 'ok' && r.check !== '-' && r.median !== null) badCheck = true;
    out.push(
      line([
        sub ? '' : w,
        `${sub ? '  ' : ''}${r.id} ${r.label}${r === ref ? ' (ref)' : ''}`,
        fmt(r.median, 2),
        fmt(rate, 2),
        vs === null ? '-' : `${vs.toFixed(2)}x`,
        r.rssMb === null ? '' : fmt(r.rssMb, 0),
        r.median === null ? r.check : sub ? '' : r.check,
        r.rounds,
      ]),
    );
  }
  const goal = GOALS[w];
  for (const f of ws.filter((r) => r.role === 'ferry')) {
    if (goal && ref?.median && f.median !== null) {
      const v = f.median / ref.median;
      const met = goal.strict ? v < goal.max : v <= goal.max;
      verdicts.push(`${w}: ferry ${v.toFixed(2)}x of ${ref.label}; goal ${goal.text}: ${met ? 'met' : 'NOT met'}`);
    } else if (goal && f.median === null) {
      verdicts.push(`${w}: ferry did not finish (${f.check}); goal ${goal.text}: NOT met`);
    }
  }
  out.push('');
}

// Memory: every ferry row under the limit; the narrow table's 20M-row run about as large as its 5M one.
const ferryRows = rows.filter((r) => r.role === 'ferry' && r.rssMb !== null);
if (ferryRows.length) {
  const worst = ferryRows.reduce((a, b) => (b.rssMb > a.rssMb ? b : a));
  const over = ferryRows.filter((r) => r.rssMb >= RSS_LIMIT_MB);
  verdicts.push(
    `memory: ferry's largest peak RSS ${worst.rssMb.toFixed(0)} MB (${worst.workload} ${worst.id}); goal under ${RSS_LIMIT_MB} MB on every workload: ${
      over.length ? `NOT met (${over.map((r) => `${r.workload} ${r.id} ${r.rssMb.toFixed(0)} MB`).join(', ')})` : 'met'
    }`,
  );
}
const n5 = rows.find((r) => r.workload === 'pg-pg-narrow-5m' && r.role === 'ferry');
const n20 = rows.find((r) => r.workload === 'pg-pg-narrow-20m' && r.role === 'ferry');
if (n5?.rssMb && n20?.rssMb) {
  const k = n20.rssMb / n5.rssMb;
  verdicts.push(
    `memory: narrow 5M rows ${n5.rssMb.toFixed(0)} MB, 20M rows ${n20.rssMb.toFixed(0)} MB (${k.toFixed(2)}x); goal flat (at most ${FLAT_RATIO}x): ${k <= FLAT_RATIO ? 'met' : 'NOT met'}`,
  );
}
const sweep = rows.filter((r) => r.workload === 'pg-pg-parallel' && r.median);
if (sweep.length) {
  verdicts.push(
    `--parallel scaling (pg-pg, Mrows/s): ${sweep
      .map((r) => `${r.id.slice(1)}: ${fmt(r.rows / r.median / 1e6)}`)
      .join(', ')}`,
  );
}

console.log(out.join('\n'));
for (const v of verdicts) console.log(v);
if (badCheck) {
  console.log('CHECK FAILED on at least one row: see its check column and the log of its script');
  process.exit(3);
}
