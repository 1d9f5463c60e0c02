/**
 * `ferry demo`: the main job on the embedded default, no server needed. Generates a SQLite
 * database with awkward values, dumps it into a local lake (Parquet, partitioned, with a
 * manifest), loads the lake into a local warehouse (another SQLite database), verifies each step and
 * the warehouse against the original source, and prints the ledgers and the verify reports.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, verify } from '../api/operations.js';
import { formatLedger, formatVerify, n } from '../cli/format.js';
import { Progress } from '../cli/progress.js';
import { EXIT_CODES } from '../core/errors.js';

/** Strings that break naive loaders: quoting, separators, escapes, every Unicode plane, RTL, combining marks. */
export const AWKWARD_STRINGS = [
  '',
  ' ',
  '  leading and trailing  ',
  'tab\there',
  'new\nline',
  'carriage\r\nreturn',
  'back\\slash \\N \\\\ \\t',
  '"double" and \'single\' quotes',
  'comma, semicolon; pipe|',
  'NULL',
  '\\N',
  'null',
  'Ærøskøbing',
  '日本語のテキスト',
  '中文 한국어',
  'עברית ‏RTL‏ العربية',
  'emoji 😀🚀👩‍👩‍👧‍👦 and 🇫🇷',
  '𝄞 musical symbol (plane 1)',
  '𠀀𠀁 CJK extension B (plane 2)',
  '\u{E0041} tag character (plane 14)',
  '\u{F0000} private use (plane 15)',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗ combining',
  '<script>alert(1)</script>',
  "'; DROP TABLE events; --",
  '{"not":"json"',
  '\u00a0non-breaking\u2028line separator\u2029para',
  'x'.repeat(5000),
];

const FLOATS = [0, -0, 1.5, -2.25, 1e-300, 1.7976931348623157e308, 5e-324, Math.PI, 0.1 + 0.2, 123456789.12345679];
const INT64 = [0n, 1n, -1n, 9223372036854775807n, -9223372036854775808n, 4294967296n];

export interface DemoOptions {
  dir: string;
  rows: number;
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Writes the demo source database (deterministic for a given row count). */
export async function generateDemoSource(file: string, rows: number): Promise<void> {
  const Database = (await import('better-sqlite3')).default;
  rmSync(file, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE events (
      id INTEGER PRIMARY KEY,
      uuid UUID NOT NULL,
      happened_at TIMESTAMPTZ,
      label TEXT,
      amount REAL,
      price DECIMAL_TEXT(20,6),
      big BIGINT,
      flag BOOLEAN,
      payload BLOB,
      doc JSON_TEXT
    );
    CREATE INDEX events_happened_at ON events (happened_at);
    CREATE TABLE "Order Items" (
      "Order Id" INTEGER NOT NULL,
      "line" INTEGER NOT NULL,
      "Product Name" TEXT,
      "select" TEXT,
      PRIMARY KEY ("Order Id", "line")
    );
    CREATE TABLE notes (body TEXT, created DATE);
  `);
  const ins = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const hex = (k: number) =>
    Array.from({ length: k }, () =>
      Math.floor(rand() * 256)
        .toString(16)
        .padStart(2, '0'),
    ).join('');
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const h = hex(16);
      const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
      const t = new Date(Date.UTC(2000, 0, 1) + Math.floor(rand() * 8e11));
      const ts = `${t.toISOString().replace('T', ' ').replace('Z', '')}${i % 3 === 0 ? '123' : ''}+00`;
      const label = i % 11 === 0 ? null : `${AWKWARD_STRINGS[i % AWKWARD_STRINGS.length]} #${i}`;
      const amount = i % 13 === 0 ? null : i % 17 === 0 ? FLOATS[i % FLOATS.length] : rand() * 1e6 - 5e5;
      const price = i % 19 === 0 ? null : `${Math.floor(rand() * 1e12)}.${String(i % 1000000).padStart(6, '0')}`;
      const big = i % 23 === 0 ? INT64[i % INT64.length] : BigInt(Math.floor(rand() * 2 ** 53)) * (i % 2 ? 1n : -1n);
      const flag = i % 29 === 0 ? null : i % 2;
      const payload = i % 31 === 0 ? null : Buffer.from(`00${hex(4)}00ff00`, 'hex');
      const doc = i % 37 === 0 ? null : JSON.stringify({ i, tags: ['a', 'ü', '"q"'], nested: { n: i / 7 } });
      ins.run(i, uuid, ts, label, amount, price, big, flag, payload, doc);
    }
  });
  for (let i = 1; i <= rows; i += 50_000) tx(i, Math.min(rows + 1, i + 50_000));
  const items = db.prepare('INSERT INTO "Order Items" VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let o = 1; o <= 5000; o++) {
      for (let l = 1; l <= 1 + (o % 5); l++)
        items.run(o, l, AWKWARD_STRINGS[(o + l) % AWKWARD_STRINGS.length], l % 2 ? 'yes' : null);
    }
  })();
  const notes = db.prepare('INSERT INTO notes VALUES (?, ?)');
  db.transaction(() => {
    for (let k = 0; k < 1000; k++)
      notes.run(AWKWARD_STRINGS[k % AWKWARD_STRINGS.length], `2024-01-${String((k % 28) + 1).padStart(2, '0')}`);
  })();
  db.close();
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const dir = path.resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  for (const f of ['source.db', 'target.db', 'target.db-wal', 'target.db-shm', '.ferry', 'lake']) {
    rmSync(path.join(dir, f), { recursive: true, force: true });
  }
  o.err(`generating ${path.join(dir, 'source.db')} with ${n(o.rows)} rows of awkward values...`);
  const t0 = Date.now();
  await generateDemoSource(path.join(dir, 'source.db'), o.rows);
  o.err(`generated in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const lakeJob = path.join(dir, 'lake.yaml');
  writeFileSync(
    lakeJob,
    `# ferry demo: SQLite -> a local lake, generated by \`ferry demo\`
source: sqlite:source.db
target: file:lake
defaults:
  format: parquet            # or csv, jsonl
  compression: zstd
  chunk_rows: 100000
streams:
  events:
    partition_by: ["happened_at:year"]   # lake/events/happened_at_year=2012/part-....parquet
  '"Order Items"': {}
  notes:
    format: csv
    compression: gzip
`,
  );
  const jobFile = path.join(dir, 'job.yaml');
  writeFileSync(
    jobFile,
    `# ferry demo: the lake -> SQLite (a local warehouse), generated by \`ferry demo\`
source: file:lake            # each stream's folder is read through its manifest: typed, checksummed
target: sqlite:target.db
defaults:
  mode: full-refresh
streams:
  events: {}                 # one chunk per file, partitions included
  '"Order Items"': {}        # composite key, a name with a space
  notes: {}                  # gzip CSV written by the lake job
`,
  );
  const checkFile = path.join(dir, 'check.yaml');
  writeFileSync(
    checkFile,
    `# ferry demo: the warehouse against the original source (verify only), generated by \`ferry demo\`
source: sqlite:source.db
target: sqlite:target.db
streams:
  events: {}
  '"Order Items"': {}
  notes: {}
`,
  );
  let code: number = EXIT_CODES.ok;
  for (const [what, file] of [
    ['lake (Parquet and CSV files, partitioned, with a manifest)', lakeJob],
    ['warehouse (SQLite), loaded from the lake', jobFile],
  ] as const) {
    o.out('');
    o.out(`== ${what}: ${file}`);
    const progress = process.stderr.isTTY ? new Progress(process.stderr) : undefined;
    const ledger = await run(file, {
      onEvent: progress ? (e) => progress.on(e) : undefined,
      onPlan: () => progress?.start(),
    });
    progress?.stop();
    o.out(formatLedger(ledger));
    o.out('');
    const report = await verify(file);
    o.out(formatVerify(report));
    if (ledger.status !== 'ok') code = EXIT_CODES.failed;
    else if (report.status !== 'equal' && code === EXIT_CODES.ok) code = EXIT_CODES.mismatch;
  }
  o.out('');
  o.out(`== the warehouse against the original source: ${checkFile}`);
  const report = await verify(checkFile);
  o.out(formatVerify(report));
  if (report.status !== 'equal' && code === EXIT_CODES.ok) code = EXIT_CODES.mismatch;
  return code;
}
