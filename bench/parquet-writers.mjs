#!/usr/bin/env node
// Measures the two candidate Parquet writers for ferry, side by side, on rows shaped like ferry's
// RowBatch (canonical values, see src/core/logical-types.ts), arriving in batches of 10,000 rows:
//   - hyparquet-writer (pure JS), streaming: one ParquetWriter, one row group written per 100,000 rows;
//   - DuckDB (@duckdb/node-api): appender into a staging table, then COPY ... TO parquet
//     (whole table at the end; with a memory limit so it spills; or one part file per 100,000 rows).
// For each it reports write time, rows/s, CPU, peak RSS (the kernel's VmHWM of a fresh child process,
// plus /proc sampling every 50 ms), file size and row groups; then reads every file back with two
// independent readers (DuckDB and hyparquet), compares every row and a few sums with the generated
// data, and prints the Parquet physical/logical types (parquet_schema) and the codec actually used.
// It prints figures and is not a test: it exits non-zero only if it cannot run at all.
//
// Its packages are NOT project dependencies. Install them outside the repo and point the script there:
//   mkdir -p /tmp/pq && (cd /tmp/pq && npm init -y >/dev/null &&
//     npm i @duckdb/node-api hyparquet-writer hyparquet hyparquet-compressors @bokuweb/zstd-wasm)
//   node bench/parquet-writers.mjs --deps /tmp/pq            # 1,000,000 data_fact rows, 200,000 awkward rows
//   node bench/parquet-writers.mjs --deps /tmp/pq --rows 200000 --awkward-rows 50000 --repeat 1
// (or `npm i --no-save <the same packages>` in the repo, then no --deps; PARQUET_BENCH_DEPS=DIR works too).
// @bokuweb/zstd-wasm is optional (hyparquet-writer has no ZSTD compressor of its own and Node 20's zlib has
// no zstd); without it the hyparquet:zstd contender is skipped. hyparquet-compressors lets the hyparquet
// reader read ZSTD/GZIP files.
//
// Contenders (--writers): hyparquet:snappy, hyparquet:zstd, hyparquet:gzip, and for the awkward shape only
// hyparquet-parsedjson:zstd / hyparquet-jsonfooter:zstd (two ways to get converted_type JSON, see the json
// case in hyparquetWriter), duckdb:snappy, duckdb:zstd,
// duckdb-spill:zstd (memory_limit 128MB), duckdb-parts:zstd. Shapes (--shapes): fact = bench's data_fact;
// awkward = int64 past 2^53, decimal(20,6) strings, bytes with NULs, unicode text, nulls, dates, JSON text.
//
// Options: --rows N (1000000)  --awkward-rows N (200000)  --batch N (10000)  --row-group N (100000)
//          --repeat N (2, best time reported)  --writers a,b (all)  --shapes fact,awkward
//          --out DIR (tmp)  --keep  --no-verify  --deps DIR  --json FILE (raw results)
// Linux only for the memory figures (/proc).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const SCRIPT = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = {
    rows: 1_000_000,
    awkwardRows: 200_000,
    batch: 10_000,
    rowGroup: 100_000,
    repeat: 2,
    writers: null,
    shapes: ['fact', 'awkward'],
    out: path.join(os.tmpdir(), 'ferry-parquet-bench'),
    keep: false,
    verify: true,
    deps: process.env.PARQUET_BENCH_DEPS || null,
    json: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const int = () => {
      const v = Number(next());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--rows') o.rows = int();
    else if (a === '--awkward-rows') o.awkwardRows = int();
    else if (a === '--batch') o.batch = int();
    else if (a === '--row-group') o.rowGroup = int();
    else if (a === '--repeat') o.repeat = Math.max(1, int());
    else if (a === '--writers') o.writers = next().split(',').filter(Boolean);
    else if (a === '--shapes') o.shapes = next().split(',').filter(Boolean);
    else if (a === '--out') o.out = path.resolve(next());
    else if (a === '--keep') o.keep = true;
    else if (a === '--no-verify') o.verify = false;
    else if (a === '--deps') o.deps = path.resolve(next());
    else if (a === '--json') o.json = path.resolve(next());
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${readFileSync(SCRIPT, 'utf8').split('\nimport ')[0]}\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

// ---------------------------------------------------------------- loading the (non-project) packages

/** Import a package: from the script's own node_modules chain first, then --deps, then the cwd. */
async function loadDep(name) {
  try {
    return await import(name);
  } catch (err) {
    if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  }
  for (const dir of [process.env.PARQUET_BENCH_DEPS, process.cwd()]) {
    if (!dir) continue;
    let resolved;
    try {
      resolved = createRequire(path.join(dir, 'noop.js')).resolve(name);
    } catch {
      continue;
    }
    return import(pathToFileURL(resolved).href);
  }
  return null;
}

/** Directory of an installed package (for its version and size on disk), or null. */
function packageDir(name) {
  const bases = [path.dirname(SCRIPT), process.env.PARQUET_BENCH_DEPS, process.cwd()].filter(Boolean);
  for (const base of bases) {
    let dir = base;
    for (;;) {
      const candidate = path.join(dir, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) return candidate;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return null;
}

function dirBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

// ---------------------------------------------------------------- data: ferry canonical rows

/** mulberry32: small, fast, deterministic. Returns uint32. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const HEX_CHARS = Buffer.from('0123456789abcdef');
const p2 = (n) => (n < 10 ? `0${n}` : `${n}`);

function civilFromDays(days) {
  const d = new Date(days * 86_400_000);
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
}

/**
 * Shapes. `kind` is ferry's LogicalType kind; values are in ferry's canonical in-memory form:
 * uuid/timestamptz/decimal/date/json as strings, int64 as bigint, bytes as Buffer.
 */
const SHAPES = {
  fact: {
    table: 'data_fact',
    columns: [
      { name: 'uuid', kind: 'uuid' },
      { name: 'timestamp', kind: 'timestamptz' },
      { name: 'value', kind: 'float64' },
      { name: 'fuel_id', kind: 'int32' },
      { name: 'region_id', kind: 'int32' },
      { name: 'power_id', kind: 'int32' },
      { name: 'date_id', kind: 'int32' },
      { name: 'time_id', kind: 'int32' },
    ],
    batches: factBatches,
  },
  awkward: {
    table: 'awkward',
    columns: [
      { name: 'id', kind: 'int64' },
      { name: 'amount', kind: 'decimal', precision: 20, scale: 6, nullable: true },
      { name: 'payload', kind: 'bytes', nullable: true },
      { name: 'note', kind: 'text', nullable: true },
      { name: 'day', kind: 'date' },
      { name: 'doc', kind: 'json', nullable: true },
    ],
    batches: awkwardBatches,
  },
};

/** data_fact as bench/pg-to-pg.sh makes it: one-minute steps from 2015 with jitter (here to the microsecond). */
function* factBatches(n, batchRows) {
  const r = rng(42);
  const base = Date.UTC(2015, 0, 1);
  // Strings are assembled in a byte buffer and decoded once: concatenating ~20 pieces per value makes
  // cons-strings whose garbage dominated the generator's time.
  const ub = Buffer.alloc(36);
  const tb = Buffer.alloc(40);
  const words = new Uint32Array(4);
  let dayKey = Number.NaN;
  let dayId = 0;
  for (let start = 0; start < n; start += batchRows) {
    const m = Math.min(batchRows, n - start);
    const rows = new Array(m);
    for (let k = 0; k < m; k++) {
      const i = start + k;
      words[0] = r();
      words[1] = r();
      words[2] = r();
      words[3] = r();
      let o = 0;
      for (let b = 0; b < 16; b++) {
        if (b === 4 || b === 6 || b === 8 || b === 10) ub[o++] = 45;
        const v = (words[b >> 2] >>> (24 - 8 * (b & 3))) & 255;
        ub[o++] = HEX_CHARS[v >> 4];
        ub[o++] = HEX_CHARS[v & 15];
      }
      const uuid = ub.latin1Slice(0, 36);
      const sub = r();
      const ms = base + i * 60_000 + (sub % 60_000);
      const day = Math.floor(ms / 86_400_000);
      if (day !== dayKey) {
        dayKey = day;
        const ymd = civilFromDays(day);
        tb.latin1Write(`${ymd} 00:00:00`, 0);
        dayId = Number(ymd.replaceAll('-', ''));
      }
      const inDay = ms - day * 86_400_000;
      const hh = Math.floor(inDay / 3_600_000);
      const mi = Math.floor(inDay / 60_000) % 60;
      const ss = Math.floor(inDay / 1000) % 60;
      tb[11] = 48 + ((hh / 10) | 0);
      tb[12] = 48 + (hh % 10);
      tb[14] = 48 + ((mi / 10) | 0);
      tb[15] = 48 + (mi % 10);
      tb[17] = 48 + ((ss / 10) | 0);
      tb[18] = 48 + (ss % 10);
      let len = 19;
      const frac = (ms % 1000) * 1000 + ((sub >>> 20) % 1000);
      if (frac) {
        tb[19] = 46;
        let f = frac;
        for (let q = 25; q >= 20; q--) {
          tb[q] = 48 + (f % 10);
          f = (f / 10) | 0;
        }
        len = 26;
        while (tb[len - 1] === 48) len--; // PostgreSQL prints no trailing zeros
      }
      tb[len] = 43; // "+00"
      tb[len + 1] = 48;
      tb[len + 2] = 48;
      const ts = tb.latin1Slice(0, len + 3);
      rows[k] = [
        uuid,
        ts,
        r() / 4_294_967.296 - 100,
        1 + (r() % 20),
        1 + (r() % 50),
        1 + (r() % 5),
        dayId,
        hh * 100 + mi,
      ];
    }
    yield { rows, bytes: m * 130 };
  }
}

const NOTES = [
  'ferry ⛴ crossing',
  'Grüße aus Köln',
  '日本語のテキスト',
  '🦆🦆 astral duck',
  'e\u0301 combining acute',
  'עברית RTL',
  'tab\there',
  '',
  'quote " apostrophe \' backslash \\',
  'line\nbreak',
  'Ω≈ç√∫ math',
  'zero\u200bwidth',
];
const JSON_DOCS = [
  (i, x) => `{"id":${i},"tags":["a","b"],"nested":{"x":${x},"ok":true,"none":null}}`,
  () => '{ "spaced" : [ 1 , 2.50 , 1e3 ] , "s" : "café ☕" }',
  (i) => `[${i},"two",{"three":3}]`,
  () => '"just a string"',
  () => '{"esc":"line\\nbreak \\u00e9 \\"q\\""}',
  () => '{"big":12345678901234567890,"neg":-0.0}',
];

/** Types that go wrong: int64 past 2^53, exact decimal(20,6), bytes with NULs, unicode text, nulls, dates, json. */
function* awkwardBatches(n, batchRows) {
  const r = rng(7);
  for (let start = 0; start < n; start += batchRows) {
    const m = Math.min(batchRows, n - start);
    const rows = new Array(m);
    for (let k = 0; k < m; k++) {
      const i = start + k;
      let id;
      if (i === 0) id = 9_223_372_036_854_775_807n;
      else if (i === 1) id = -9_223_372_036_854_775_808n;
      else id = (i % 2 ? -1n : 1n) * (2n ** 53n + BigInt(i) * 1_000_003n + BigInt(r() & 0xffff));
      let amount;
      if (i % 17 === 3) amount = null;
      else if (i === 2) amount = '99999999999999.999999';
      else if (i === 4) amount = '-99999999999999.999999';
      else if (i === 5) amount = '0.000000';
      else if (i === 6) amount = '-0.000001';
      else {
        const intPart = BigInt(`${r() % 100_000}${String(r() % 1_000_000_000).padStart(9, '0')}`);
        const fracPart = String(r() % 1_000_000).padStart(6, '0');
        const negative = (r() & 1) === 1 && (intPart !== 0n || fracPart !== '000000');
        amount = `${negative ? '-' : ''}${intPart}.${fracPart}`;
      }
      let payload = null;
      if (i % 11 !== 5) {
        const len = r() % 40;
        payload = Buffer.alloc(len);
        for (let b = 0; b < len; b++) {
          const v = r() & 255;
          payload[b] = (v & 7) === 0 ? 0 : v;
        }
        if (len > 0 && i % 3 === 0) payload[0] = 0;
      }
      const note = i % 7 === 1 ? null : NOTES[i % NOTES.length] + (i % 5 === 0 ? '' : ` #${i}`);
      let day;
      if (i === 3) day = '1970-01-01';
      else if (i === 7) day = '1969-12-31';
      else day = civilFromDays((r() % 73_049) - 25_567); // 1900-01-01 .. 2099-12-31
      const doc = i % 13 === 4 ? null : JSON_DOCS[i % JSON_DOCS.length](i, (r() % 10_000) / 100);
      rows[k] = [id, amount, payload, note, day, doc];
    }
    yield { rows, bytes: m * 150 };
  }
}

// ---------------------------------------------------------------- canonical -> physical conversions

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** 'xxxxxxxx-xxxx-...' -> 16 bytes written into `out` at `offset`. */
function uuidInto(s, out, offset) {
  if (s.length !== 36) throw new Error(`not a uuid: ${s}`);
  let j = 0;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (c === 45) continue;
    const v = c < 128 ? HEX_VALUE[c] : -1;
    if (v < 0) throw new Error(`not a uuid: ${s}`);
    if (j & 1) out[offset + (j >> 1)] |= v;
    else out[offset + (j >> 1)] = v << 4;
    j++;
  }
  if (j !== 32) throw new Error(`not a uuid: ${s}`);
}

function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** 'YYYY-MM-DD' -> days since 1970-01-01 (ferry's infinity / BC dates are not handled here). */
function dateToDays(s) {
  if (s.length !== 10 || s[4] !== '-' || s[7] !== '-') throw new Error(`unsupported date ${s}`);
  return daysFromCivil(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10)));
}

/** 'YYYY-MM-DD HH:MM:SS[.ffffff]+00' -> microseconds since the epoch, exact. */
function timestamptzToMicros(s) {
  const days = dateToDays(s.slice(0, 10));
  const sec = days * 86_400 + Number(s.slice(11, 13)) * 3600 + Number(s.slice(14, 16)) * 60 + Number(s.slice(17, 19));
  let frac = 0;
  let i = 19;
  if (s.charCodeAt(19) === 46) {
    let scale = 100_000;
    for (i = 20; i < s.length; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      frac += c * scale;
      scale /= 10;
    }
  }
  if (s.slice(i) !== '+00') throw new Error(`unsupported timestamptz ${s}`);
  const us = sec * 1_000_000 + frac;
  return Number.isSafeInteger(us) ? BigInt(us) : BigInt(sec) * 1_000_000n + BigInt(frac);
}

/** '-123.45' at scale 6 -> -123450000n (exact; refuses digits past the scale and NaN). */
function decimalToUnscaled(s, scale) {
  let i = 0;
  let negative = false;
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-';
    i = 1;
  }
  const dot = s.indexOf('.');
  const intPart = dot < 0 ? s.slice(i) : s.slice(i, dot);
  const frac = dot < 0 ? '' : s.slice(dot + 1);
  if (frac.length > scale || !/^\d*$/.test(intPart) || !/^\d*$/.test(frac)) {
    throw new Error(`decimal ${s} does not fit scale ${scale}`);
  }
  const v = BigInt((intPart + frac.padEnd(scale, '0')).replace(/^0+(?=\d)/, '') || '0');
  return negative ? -v : v;
}

function formatUnscaled(v, scale) {
  const negative = v < 0n;
  const digits = (negative ? -v : v).toString().padStart(scale + 1, '0');
  const out = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${out}` : out;
}

/** Smallest FIXED_LEN_BYTE_ARRAY length that holds a signed decimal of this precision. */
function decimalBytes(precision) {
  let bytes = 1;
  while (2 ** (8 * bytes - 1) < 10 ** precision) bytes++;
  return bytes;
}

// ---------------------------------------------------------------- writers

/** hyparquet-writer: one ParquetWriter on a file; a row group per `rowGroup` rows of buffered batches. */
async function hyparquetWriter({ shape, file, codec, rowGroup, jsonMode = 'text' }) {
  const hpw = await loadDep('hyparquet-writer');
  if (!hpw) throw new Error('hyparquet-writer is not installed');
  const compressors = {};
  if (codec === 'ZSTD') {
    const zstd = await loadDep('@bokuweb/zstd-wasm');
    if (!zstd) throw new Error('SKIP: @bokuweb/zstd-wasm is not installed (hyparquet-writer has no zstd of its own)');
    const api = zstd.init ? zstd : zstd.default;
    await api.init();
    compressors.ZSTD = (bytes) => api.compress(bytes, 3); // level 3 = DuckDB's default
  } else if (codec === 'GZIP') {
    compressors.GZIP = (bytes) => zlib.gzipSync(bytes);
  }
  const schema = [{ name: 'root', num_children: shape.columns.length }];
  for (const c of shape.columns) {
    const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
    let el;
    switch (c.kind) {
      case 'uuid':
        el = { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } };
        break;
      case 'timestamptz':
        el = { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } };
        break;
      case 'float64':
        el = { type: 'DOUBLE' };
        break;
      case 'int32':
        el = { type: 'INT32' };
        break;
      case 'int64':
        el = { type: 'INT64' };
        break;
      case 'decimal': {
        const { precision, scale } = c;
        const physical =
          precision <= 9
            ? { type: 'INT32' }
            : precision <= 18
              ? { type: 'INT64' }
              : { type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalBytes(precision) };
        // converted_type is what makes hyparquet-writer scale the values; logical_type is the modern annotation.
        el = {
          ...physical,
          converted_type: 'DECIMAL',
          precision,
          scale,
          logical_type: { type: 'DECIMAL', precision, scale },
        };
        break;
      }
      case 'bytes':
        el = { type: 'BYTE_ARRAY' };
        break;
      case 'text':
        el = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
        break;
      case 'date':
        el = { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
        break;
      case 'json':
        // hyparquet-writer JSON.stringify()s every value of a converted_type JSON column, so JSON *text*
        // would come out as a JSON string literal. 'text' writes the UTF-8 bytes as they are under the
        // JSON logical type only (exact, but DuckDB, which looks at converted_type, reads it as BLOB);
        // 'parsed' JSON.parse()s each value and lets the writer re-serialize it under converted_type JSON
        // too (DuckDB reads JSON, but the text is re-serialized: whitespace, 2.50, 1e3, -0.0 and
        // integers past 2^53 change); 'footer' writes the bytes as in 'text' and adds converted_type JSON
        // to the schema just before finish(), so only the footer carries it (exact and typed, but it
        // relies on ParquetWriter keeping a reference to the schema array: an internal detail).
        el =
          jsonMode === 'parsed'
            ? { type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' } }
            : { type: 'BYTE_ARRAY', logical_type: { type: 'JSON' } };
        break;
      default:
        throw new Error(`no mapping for ${c.kind}`);
    }
    schema.push({ name: c.name, repetition_type, ...el });
  }
  const pw = new hpw.ParquetWriter({
    writer: hpw.fileWriter(file),
    schema,
    codec,
    compressors,
    createdBy: 'ferry parquet bench (hyparquet-writer)',
  });

  /** Transpose buffered rows into one typed column each (the conversion cost is part of the writer). */
  function columnsOf(rows) {
    const n = rows.length;
    return shape.columns.map((c, ci) => {
      let data;
      switch (c.kind) {
        case 'uuid': {
          const block = new Uint8Array(16 * n);
          data = new Array(n);
          for (let i = 0; i < n; i++) {
            const v = rows[i][ci];
            if (v === null) data[i] = null;
            else {
              uuidInto(v, block, 16 * i);
              data[i] = block.subarray(16 * i, 16 * i + 16);
            }
          }
          break;
        }
        case 'timestamptz':
          data = c.nullable ? new Array(n) : new BigInt64Array(n);
          for (let i = 0; i < n; i++) {
            const v = rows[i][ci];
            data[i] = v === null ? null : timestamptzToMicros(v);
          }
          break;
        case 'float64':
          data = c.nullable ? new Array(n) : new Float64Array(n);
          for (let i = 0; i < n; i++) data[i] = rows[i][ci];
          break;
        case 'int32':
          data = c.nullable ? new Array(n) : new Int32Array(n);
          for (let i = 0; i < n; i++) data[i] = rows[i][ci];
          break;
        case 'int64':
          data = c.nullable ? new Array(n) : new BigInt64Array(n);
          for (let i = 0; i < n; i++) data[i] = rows[i][ci];
          break;
        case 'decimal':
          data = new Array(n);
          for (let i = 0; i < n; i++) {
            const v = rows[i][ci];
            data[i] = v === null ? null : decimalToUnscaled(v, c.scale);
          }
          break;
        case 'date':
          data = c.nullable ? new Array(n) : new Int32Array(n);
          for (let i = 0; i < n; i++) {
            const v = rows[i][ci];
            data[i] = v === null ? null : dateToDays(v);
          }
          break;
        case 'json':
          data = new Array(n);
          for (let i = 0; i < n; i++) {
            const v = rows[i][ci];
            data[i] = v === null ? null : jsonMode === 'parsed' ? JSON.parse(v) : Buffer.from(v, 'utf8');
          }
          break;
        default: // bytes (Buffer is a Uint8Array), text (the writer encodes strings)
          data = new Array(n);
          for (let i = 0; i < n; i++) data[i] = rows[i][ci];
      }
      return { name: c.name, data };
    });
  }

  let pending = [];
  let pendingRows = 0;
  function flushGroup() {
    if (!pendingRows) return;
    const rows = pending.length === 1 ? pending[0] : pending.flat();
    pending = [];
    pendingRows = 0;
    pw.write({ columnData: columnsOf(rows), rowGroupSize: rows.length });
  }
  return {
    push(batch) {
      pending.push(batch.rows);
      pendingRows += batch.rows.length;
      if (pendingRows >= rowGroup) flushGroup();
    },
    finish() {
      flushGroup();
      if (jsonMode === 'footer') {
        shape.columns.forEach((c, i) => {
          if (c.kind === 'json') schema[i + 1].converted_type = 'JSON';
        });
      }
      pw.finish();
      return [file];
    },
  };
}

const DUCK_TYPES = {
  uuid: () => 'UUID',
  timestamptz: () => 'TIMESTAMPTZ',
  float64: () => 'DOUBLE',
  int32: () => 'INTEGER',
  int64: () => 'BIGINT',
  decimal: (c) => `DECIMAL(${c.precision},${c.scale})`,
  bytes: () => 'BLOB',
  text: () => 'VARCHAR',
  date: () => 'DATE',
  json: () => 'JSON',
};
const q = (name) => `"${name.replaceAll('"', '""')}"`;
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

/**
 * DuckDB: values go through the appender into a typed staging table (the string-canonical kinds are
 * appended as VARCHAR and cast by DuckDB on append), then COPY writes Parquet.
 * mode 'table': one COPY of the whole table at the end (memory grows with the table unless limited);
 * mode 'spill': the same with memory_limit, so the staging table spills to temp_directory;
 * mode 'parts': COPY every `rowGroup` rows to its own part file and drop the staging table (a dataset, not one file).
 */
async function duckdbWriter({ shape, file, codec, rowGroup, mode, memoryLimit, tmpDir }) {
  const duck = await loadDep('@duckdb/node-api');
  if (!duck) throw new Error('@duckdb/node-api is not installed');
  const options = { threads: String(os.cpus().length) };
  if (mode === 'spill') {
    options.memory_limit = memoryLimit;
    options.temp_directory = tmpDir;
  }
  const instance = await duck.DuckDBInstance.create(':memory:', options);
  const conn = await instance.connect();
  await conn.run("SET TimeZone = 'UTC'");
  const cols = shape.columns;
  const ddl = `CREATE TABLE stage (${cols.map((c) => `${q(c.name)} ${DUCK_TYPES[c.kind](c)}`).join(', ')})`;
  const copyOptions = `(FORMAT parquet, COMPRESSION ${codec.toLowerCase()}, ROW_GROUP_SIZE ${rowGroup})`;
  const files = [];
  let appender;
  let rowsInStage = 0;
  async function open() {
    await conn.run(ddl);
    appender = await conn.createAppender('stage');
    rowsInStage = 0;
  }
  async function copyOut(target) {
    appender.closeSync();
    await conn.run(`COPY stage TO ${sqlString(target)} ${copyOptions}`);
    await conn.run('DROP TABLE stage');
    files.push(target);
  }
  await open();
  const appendFns = cols.map((c) => {
    switch (c.kind) {
      case 'float64':
        return (a, v) => a.appendDouble(v);
      case 'int32':
        return (a, v) => a.appendInteger(v);
      case 'int64':
        return (a, v) => a.appendBigInt(v);
      case 'bytes':
        return (a, v) => a.appendBlob(v);
      case 'decimal':
        // Not appendVarchar: DuckDB's VARCHAR -> DECIMAL(20,6) cast measured 10-18 µs a value here (the
        // other casts below cost 0.2-1.2 µs); scaling the string to a bigint in JS costs ~2 µs.
        return (a, v) =>
          a.appendDecimal(new duck.DuckDBDecimalValue(decimalToUnscaled(v, c.scale), c.precision, c.scale));
      default: // uuid, timestamptz, text, date, json: VARCHAR, cast by DuckDB to the column type on append
        return (a, v) => a.appendVarchar(v);
    }
  });
  const partName = (k) => file.replace(/\.parquet$/, `.part-${String(k).padStart(5, '0')}.parquet`);
  return {
    async push(batch) {
      const a = appender;
      const width = cols.length;
      for (const row of batch.rows) {
        for (let c = 0; c < width; c++) {
          const v = row[c];
          if (v === null) a.appendNull();
          else appendFns[c](a, v);
        }
        a.endRow();
      }
      rowsInStage += batch.rows.length;
      if (mode === 'parts' && rowsInStage >= rowGroup) {
        await copyOut(partName(files.length));
        await open();
      }
    },
    async finish() {
      if (mode !== 'parts' || rowsInStage > 0 || files.length === 0) {
        await copyOut(mode === 'parts' ? partName(files.length) : file);
      } else appender.closeSync();
      conn.closeSync();
      instance.closeSync?.();
      return files;
    },
  };
}

/** Contenders. `shapes` limits one to the shapes where it differs from another. */
const WRITERS = {
  'hyparquet:snappy': { make: (a) => hyparquetWriter({ ...a, codec: 'SNAPPY' }) },
  'hyparquet:zstd': { make: (a) => hyparquetWriter({ ...a, codec: 'ZSTD' }) },
  'hyparquet:gzip': { make: (a) => hyparquetWriter({ ...a, codec: 'GZIP' }) },
  'hyparquet-parsedjson:zstd': {
    make: (a) => hyparquetWriter({ ...a, codec: 'ZSTD', jsonMode: 'parsed' }),
    shapes: ['awkward'],
  },
  'hyparquet-jsonfooter:zstd': {
    make: (a) => hyparquetWriter({ ...a, codec: 'ZSTD', jsonMode: 'footer' }),
    shapes: ['awkward'],
  },
  'duckdb:snappy': { make: (a) => duckdbWriter({ ...a, codec: 'SNAPPY', mode: 'table' }) },
  'duckdb:zstd': { make: (a) => duckdbWriter({ ...a, codec: 'ZSTD', mode: 'table' }) },
  'duckdb-spill:zstd': { make: (a) => duckdbWriter({ ...a, codec: 'ZSTD', mode: 'spill', memoryLimit: '128MB' }) },
  'duckdb-parts:zstd': { make: (a) => duckdbWriter({ ...a, codec: 'ZSTD', mode: 'parts' }) },
};

// ---------------------------------------------------------------- child: write

function procStatusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function childWrite(job) {
  const shape = SHAPES[job.shape];
  const t0 = performance.now();
  const writer = await WRITERS[job.writer].make({
    shape,
    file: job.file,
    rowGroup: job.rowGroup,
    tmpDir: path.join(path.dirname(job.file), 'duckdb-tmp'),
  });
  const initMs = performance.now() - t0;
  const rssAfterInitKb = procStatusKb('self', 'VmRSS');
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let genMs = 0;
  let genCpuUs = 0;
  let rows = 0;
  const it = shape.batches(job.rows, job.batch);
  for (;;) {
    const g = performance.now();
    const gc = process.cpuUsage();
    const { value, done } = it.next();
    const gd = process.cpuUsage(gc);
    genCpuUs += gd.user + gd.system;
    genMs += performance.now() - g;
    if (done) break;
    rows += value.rows.length;
    await writer.push(value);
  }
  const files = await writer.finish();
  const totalMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  return {
    rows,
    initMs,
    genMs,
    totalMs,
    writeMs: totalMs - genMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    writeCpuMs: (cpu.user + cpu.system - genCpuUs) / 1000,
    rssAfterInitKb,
    hwmKb: procStatusKb('self', 'VmHWM'),
    files,
    bytes,
  };
}

// ---------------------------------------------------------------- child: verify (two independent readers)

/** Reader value vs canonical value. Returns 'ok', 'approx' (equal within float rounding), 'normalized' or 'diff'. */
function compareValue(kind, canonical, got, reader) {
  if (canonical === null) return got === null || got === undefined ? 'ok' : 'diff';
  if (got === null || got === undefined) return 'diff';
  switch (kind) {
    case 'uuid':
    case 'text':
      return got === canonical ? 'ok' : 'diff';
    case 'timestamptz':
      return BigInt(got) === timestamptzToMicros(canonical) ? 'ok' : 'diff';
    case 'float64':
      return Object.is(got, canonical) ? 'ok' : 'diff';
    case 'int32':
      return Number(got) === canonical ? 'ok' : 'diff';
    case 'int64':
      return BigInt(got) === canonical ? 'ok' : 'diff';
    case 'decimal':
      if (typeof got === 'number') {
        // hyparquet's reader turns DECIMAL into a JS number: exactness cannot be checked through it.
        const want = Number(canonical);
        return Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)) ? 'approx' : 'diff';
      }
      return String(got) === canonical ? 'ok' : 'diff';
    case 'bytes': {
      const bytes = got instanceof Uint8Array ? got : got.bytes;
      return bytes && Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), canonical) === 0
        ? 'ok'
        : 'diff';
    }
    case 'date':
      if (typeof got === 'number') return got === dateToDays(canonical) ? 'ok' : 'diff';
      return got === canonical ? 'ok' : 'diff';
    case 'json': {
      if (got instanceof Uint8Array || got?.bytes instanceof Uint8Array) {
        // the reader did not take the column for JSON (DuckDB: BLOB; hyparquet: raw bytes)
        return Buffer.from(got.bytes ?? got).toString('utf8') === canonical ? 'untyped' : 'diff';
      }
      if (got === canonical) return 'ok';
      const a = jsonTokens(got);
      const b = jsonTokens(canonical);
      return a && b && a.length === b.length && a.every((t, i) => t === b[i]) ? 'normalized' : 'diff';
    }
    default:
      throw new Error(`${reader}: no comparison for ${kind}`);
  }
}

/**
 * JSON text -> tokens with strings decoded and numbers reduced to their exact decimal value, so that
 * whitespace, escapes and number spelling (2.50, 1e3) compare equal but a rounded number does not.
 */
function jsonTokens(text) {
  const tokens = [];
  const re = /\s*(?:([{}[\],:])|("(?:[^"\\]|\\.)*")|(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?|(true|false|null))/y;
  re.lastIndex = 0;
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) break;
    if (m[1] || m[7]) tokens.push(m[1] || m[7]);
    else if (m[2]) tokens.push(`s${JSON.parse(m[2])}`);
    else {
      let digits = (m[4] + (m[5] ?? '')).replace(/^0+/, '');
      let exp = Number(m[6] ?? 0) - (m[5] ?? '').length;
      while (digits.endsWith('0')) {
        digits = digits.slice(0, -1);
        exp++;
      }
      tokens.push(digits ? `n${m[3]}${digits}e${exp}` : 'n0');
    }
  }
  return re.lastIndex === text.length || /^\s*$/.test(text.slice(re.lastIndex)) ? tokens : null;
}

function newTally(shape) {
  return {
    rows: 0,
    columns: Object.fromEntries(
      shape.columns.map((c) => [c.name, { approx: 0, normalized: 0, untyped: 0, diff: 0, examples: {} }]),
    ),
  };
}

function tallyRow(tally, shape, canonicalRow, gotRow, reader) {
  tally.rows++;
  for (let c = 0; c < shape.columns.length; c++) {
    const col = shape.columns[c];
    const verdict = compareValue(col.kind, canonicalRow[c], gotRow[c], reader);
    if (verdict === 'ok') continue;
    const t = tally.columns[col.name];
    t[verdict]++;
    if (!t.examples[verdict] && (verdict === 'diff' || verdict === 'normalized')) {
      t.examples[verdict] = { row: tally.rows - 1, wrote: show(canonicalRow[c]), read: show(gotRow[c]) };
    }
  }
}

function show(v) {
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  if (v && typeof v === 'object' && v.bytes) return `0x${Buffer.from(v.bytes).toString('hex')}`;
  if (typeof v === 'bigint') return `${v}n`;
  return JSON.stringify(v) ?? String(v);
}

/** Yields the canonical rows one at a time, regenerated with the same seed. */
function* canonicalRows(shape, n, batch) {
  for (const b of shape.batches(n, batch)) yield* b.rows;
}

async function childVerify(job) {
  const shape = SHAPES[job.shape];
  const duck = await loadDep('@duckdb/node-api');
  const hyparquet = await loadDep('hyparquet');
  const hc = await loadDep('hyparquet-compressors');
  const out = { duckdb: null, hyparquet: null, schema: null, describe: null, meta: null, sums: null };
  const files = job.files;
  const fileList = `[${files.map(sqlString).join(', ')}]`;

  // Expected sums, from a fresh generation.
  const expected = { count: 0, nonNull: {}, sums: {} };
  for (const c of shape.columns) expected.nonNull[c.name] = 0;
  for (const row of canonicalRows(shape, job.rows, job.batch)) {
    expected.count++;
    shape.columns.forEach((c, i) => {
      const v = row[i];
      if (v === null) return;
      expected.nonNull[c.name]++;
      const add = (x) => {
        expected.sums[c.name] = (expected.sums[c.name] ?? (typeof x === 'bigint' ? 0n : 0)) + x;
      };
      if (c.kind === 'float64' || c.kind === 'int32') add(v);
      else if (c.kind === 'int64') add(v);
      else if (c.kind === 'timestamptz') add(timestamptzToMicros(v));
      else if (c.kind === 'decimal') add(decimalToUnscaled(v, c.scale));
      else if (c.kind === 'bytes') add(v.length);
      else if (c.kind === 'date') add(dateToDays(v));
    });
  }

  if (duck) {
    const instance = await duck.DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    const src = `read_parquet(${fileList})`;
    const rowsOf = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
    out.schema = await rowsOf(
      `SELECT name, type, type_length, repetition_type, converted_type, logical_type, "precision", scale
         FROM parquet_schema(${sqlString(files[0])})`,
    );
    out.describe = await rowsOf(`DESCRIBE SELECT * FROM ${src}`);
    out.meta = (
      await rowsOf(
        `SELECT string_agg(DISTINCT compression, ',') AS codecs, count(DISTINCT (file_name, row_group_id)) AS row_groups,
                min(row_group_num_rows) AS min_rg_rows, max(row_group_num_rows) AS max_rg_rows
           FROM parquet_metadata(${fileList})`,
      )
    )[0];
    // A few sums in SQL, compared with the generated data.
    const sel = ['count(*)::BIGINT AS "count"'];
    for (const c of shape.columns) {
      const col = q(c.name);
      sel.push(`count(${col})::BIGINT AS ${q(`nn_${c.name}`)}`);
      if (c.kind === 'float64') sel.push(`sum(${col}) AS ${q(`sum_${c.name}`)}`);
      else if (c.kind === 'int32' || c.kind === 'int64') sel.push(`sum(${col})::VARCHAR AS ${q(`sum_${c.name}`)}`);
      else if (c.kind === 'timestamptz') sel.push(`sum(epoch_us(${col}))::VARCHAR AS ${q(`sum_${c.name}`)}`);
      else if (c.kind === 'decimal') sel.push(`sum(${col})::VARCHAR AS ${q(`sum_${c.name}`)}`);
      else if (c.kind === 'bytes') sel.push(`sum(octet_length(${col}))::VARCHAR AS ${q(`sum_${c.name}`)}`);
      else if (c.kind === 'date') sel.push(`sum(${col} - DATE '1970-01-01')::VARCHAR AS ${q(`sum_${c.name}`)}`);
    }
    const got = (await rowsOf(`SELECT ${sel.join(', ')} FROM ${src}`))[0];
    const sums = [];
    const check = (what, want, have, ok) => sums.push({ what, want: String(want), have: String(have), ok });
    check('count(*)', expected.count, got.count, BigInt(got.count) === BigInt(expected.count));
    for (const c of shape.columns) {
      const nn = got[`nn_${c.name}`];
      if (c.nullable)
        check(`count(${c.name})`, expected.nonNull[c.name], nn, BigInt(nn) === BigInt(expected.nonNull[c.name]));
      if (!(c.name in expected.sums)) continue;
      const want = expected.sums[c.name];
      const have = got[`sum_${c.name}`];
      if (c.kind === 'float64') {
        check(`sum(${c.name})`, want, have, Math.abs(have - want) <= 1e-9 * Math.abs(want));
      } else if (c.kind === 'decimal') {
        const w = formatUnscaled(want, c.scale);
        check(`sum(${c.name})`, w, have, w === have);
      } else {
        check(`sum(${c.name})`, want, have, BigInt(have) === BigInt(want));
      }
    }
    out.sums = sums;

    // Every row, streamed, in file order, compared with the regenerated rows.
    const exprs = shape.columns.map((c) => {
      const col = q(c.name);
      if (c.kind === 'timestamptz') return `epoch_us(${col})`;
      const readAs = out.describe.find((d) => d.column_name === c.name)?.column_type;
      if (c.kind === 'json' && readAs === 'BLOB') return col; // compared as bytes, reported as untyped
      if (['uuid', 'decimal', 'date', 'json'].includes(c.kind)) return `CAST(${col} AS VARCHAR)`;
      return col;
    });
    const tally = newTally(shape);
    const expectedRows = canonicalRows(shape, job.rows, job.batch);
    const result = await conn.stream(`SELECT ${exprs.join(', ')} FROM ${src}`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const row of chunk.getRows()) {
        const { value, done } = expectedRows.next();
        if (done) {
          tally.extra = (tally.extra ?? 0) + 1;
          continue;
        }
        tallyRow(tally, shape, value, row, 'duckdb');
      }
    }
    tally.missing = [...expectedRows].length;
    out.duckdb = tally;
    conn.closeSync();
  }

  if (hyparquet) {
    // Parsers keep values exact where hyparquet allows it (timestamps as bigint micros, dates as days,
    // JSON as text); DECIMAL has no parser hook in hyparquet and comes back as a JS number.
    const decoder = new TextDecoder();
    const parsers = {
      timestampFromMicroseconds: (v) => v,
      timestampFromMilliseconds: (v) => BigInt(v) * 1000n,
      timestampFromNanoseconds: (v) => BigInt(v) / 1000n,
      dateFromDays: (d) => d,
      jsonFromBytes: (b) => b && decoder.decode(b),
    };
    const tally = newTally(shape);
    const expectedRows = canonicalRows(shape, job.rows, job.batch);
    for (const f of files) {
      const file = await hyparquet.asyncBufferFromFile(f);
      const metadata = await hyparquet.parquetMetadataAsync(file);
      let rowStart = 0;
      for (const rg of metadata.row_groups) {
        const rowEnd = rowStart + Number(rg.num_rows);
        let rows = [];
        await hyparquet.parquetRead({
          file,
          metadata,
          rowStart,
          rowEnd,
          columns: shape.columns.map((c) => c.name),
          compressors: hc?.compressors,
          parsers,
          utf8: false,
          onComplete: (data) => {
            rows = data;
          },
        });
        for (const row of rows) {
          const { value, done } = expectedRows.next();
          if (done) {
            tally.extra = (tally.extra ?? 0) + 1;
            continue;
          }
          tallyRow(tally, shape, value, row, 'hyparquet');
        }
        rowStart = rowEnd;
      }
    }
    tally.missing = [...expectedRows].length;
    out.hyparquet = tally;
  }
  return out;
}

// ---------------------------------------------------------------- parent

function runChild(mode, job, { sampleMs = 50 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, '--child', mode, JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    let peakRssKb = 0;
    let lastHwmKb = 0;
    let samples = 0;
    const sample = () => {
      const rss = procStatusKb(child.pid, 'VmRSS');
      const hwm = procStatusKb(child.pid, 'VmHWM');
      if (rss > peakRssKb) peakRssKb = rss;
      if (hwm > lastHwmKb) lastHwmKb = hwm;
      samples++;
    };
    const timer = setInterval(sample, sampleMs);
    const start = performance.now();
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      const wallMs = performance.now() - start;
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      let result = null;
      let error = null;
      if (line) {
        const parsed = JSON.parse(line.slice(7));
        if (parsed.error) error = parsed.error;
        else result = parsed;
      } else error = `child exited ${code ?? signal} without a result`;
      resolve({ result, error, wallMs, sampledPeakRssKb: peakRssKb, sampledHwmKb: lastHwmKb, samples });
    });
  });
}

const mib = (kb) => (kb / 1024).toFixed(0);
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const secs = (ms) => (ms / 1000).toFixed(2);

function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

function verdictText(t) {
  if (!t) return 'reader not installed';
  const notes = [];
  const ex = (e) => `row ${e.row}: wrote ${e.wrote}, read ${e.read}`;
  for (const [name, c] of Object.entries(t.columns)) {
    if (c.diff) notes.push(`${name}: ${c.diff} DIFFER (${ex(c.examples.diff)})`);
    if (c.normalized)
      notes.push(`${name}: ${c.normalized} re-serialized, same JSON value (${ex(c.examples.normalized)})`);
    if (c.untyped) notes.push(`${name}: not typed JSON by this reader, read as bytes (text intact)`);
    if (c.approx) notes.push(`${name}: read as float (checked approx.)`);
  }
  if (t.missing) notes.push(`${t.missing} rows MISSING`);
  if (t.extra) notes.push(`${t.extra} rows EXTRA`);
  const bad = Object.values(t.columns).some((c) => c.diff) || t.missing || t.extra;
  return `${bad ? 'FAIL' : 'ok'}: ${fmtInt(t.rows)} rows${notes.length ? `; ${notes.join('; ')}` : ', all values equal'}`;
}

function typeText(s) {
  if (!s) return '?';
  let t = s.type + (s.type_length ? `(${s.type_length})` : '');
  const logical = s.logical_type
    ? s.logical_type
        .replace(
          'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))',
          'TIMESTAMP(UTC,µs)',
        )
        .replace(/Type\(\)/, '')
        .replace('StringType', 'STRING')
    : '';
  if (s.converted_type) t += ` [${s.converted_type}]`;
  if (logical) t += ` ${logical}`;
  return `${t} ${s.repetition_type === 'REQUIRED' ? 'req' : 'opt'}`;
}

async function parent(o) {
  const shapeRows = { fact: o.rows, awkward: o.awkwardRows };
  const writers = o.writers ?? Object.keys(WRITERS);
  for (const w of writers)
    if (!WRITERS[w]) throw new Error(`unknown writer ${w} (have ${Object.keys(WRITERS).join(', ')})`);
  for (const s of o.shapes) if (!SHAPES[s]) throw new Error(`unknown shape ${s}`);
  if (o.deps) process.env.PARQUET_BENCH_DEPS = o.deps;
  rmSync(o.out, { recursive: true, force: true });
  mkdirSync(o.out, { recursive: true });

  // Environment and packages.
  const pkgs = [];
  for (const name of [
    'hyparquet-writer',
    'hyparquet',
    'hyparquet-compressors',
    '@bokuweb/zstd-wasm',
    '@duckdb/node-api',
  ]) {
    const dir = packageDir(name);
    if (!dir) {
      pkgs.push([name, 'not installed', '', '']);
      continue;
    }
    const pj = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    let size = dirBytes(dir);
    let note = Object.keys(pj.dependencies ?? {}).join(', ') || 'none';
    if (name === '@duckdb/node-api') {
      // the native library lives in the platform package that @duckdb/node-bindings pulls in
      const scope = path.dirname(dir);
      const parts = readdirSync(scope).filter((d) => d.startsWith('node-bindings'));
      size = dirBytes(scope);
      note = `@duckdb/{node-api, ${parts.join(', ')}} (native libduckdb.so inside the platform package)`;
    }
    pkgs.push([name, pj.version, `${(size / 1048576).toFixed(1)} MiB`, note]);
  }
  let duckVersion = '?';
  const duck = await loadDep('@duckdb/node-api');
  if (duck) {
    const inst = await duck.DuckDBInstance.create(':memory:');
    const c = await inst.connect();
    duckVersion = (await c.runAndReadAll('SELECT version()')).getRows()[0][0];
    c.closeSync();
  }

  const jobs = [];
  for (let rep = 0; rep < o.repeat; rep++) {
    for (const shape of o.shapes) {
      if (!shapeRows[shape]) continue;
      for (const writer of writers) {
        if (!WRITERS[writer].shapes || WRITERS[writer].shapes.includes(shape)) jobs.push({ rep, shape, writer });
      }
    }
  }
  const runs = [];
  const load0 = os.loadavg()[0];
  for (const j of jobs) {
    const file = path.join(o.out, `${j.shape}.${j.writer.replace(/[^a-z0-9]+/gi, '-')}.parquet`);
    for (const f of readdirSync(o.out))
      if (f.startsWith(path.basename(file, '.parquet'))) rmSync(path.join(o.out, f), { force: true });
    const job = { ...j, file, rows: shapeRows[j.shape], batch: o.batch, rowGroup: o.rowGroup };
    const load = os.loadavg()[0];
    process.stderr.write(
      `[${j.rep + 1}/${o.repeat}] ${j.shape} ${j.writer} ${fmtInt(job.rows)} rows (load ${load.toFixed(1)}) ... `,
    );
    const r = await runChild('write', job);
    r.job = job;
    r.load = load;
    runs.push(r);
    if (r.error) process.stderr.write(`${r.error.startsWith('SKIP') ? 'skipped' : 'FAILED'}: ${r.error}\n`);
    else
      process.stderr.write(
        `${secs(r.result.writeMs)} s write, peak ${mib(r.result.hwmKb)} MiB, ${(r.result.bytes / 1048576).toFixed(1)} MiB\n`,
      );
    // Verify the files of the last repeat only (identical input, so identical content).
    if (o.verify && !r.error && j.rep === o.repeat - 1) {
      process.stderr.write('    verifying with DuckDB and hyparquet ... ');
      const v = await runChild('verify', { shape: j.shape, rows: job.rows, batch: o.batch, files: r.result.files });
      r.verify = v.result;
      r.verifyError = v.error;
      process.stderr.write(`${v.error ? `FAILED: ${v.error}` : 'done'} (${secs(v.wallMs)} s)\n`);
    }
  }
  const load1 = os.loadavg()[0];

  // ---- report
  const out = [];
  out.push('# Parquet writers for ferry: hyparquet-writer vs DuckDB (@duckdb/node-api)', '');
  out.push(
    `node ${process.version}, ${os.platform()}-${os.arch()}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; DuckDB ${duckVersion}; 1-min load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end.`,
  );
  out.push(
    `Rows arrive in batches of ${fmtInt(o.batch)} (ferry's canonical values); row groups of ${fmtInt(o.rowGroup)}; ` +
      `best of ${o.repeat} run(s), each in a fresh child process.`,
    '',
  );
  out.push(table(['package', 'version', 'on disk', 'runtime deps / notes'], pkgs), '');

  for (const shape of o.shapes) {
    if (!shapeRows[shape]) continue;
    const cols = SHAPES[shape].columns.map(
      (c) => `${c.name} ${c.kind}${c.kind === 'decimal' ? `(${c.precision},${c.scale})` : ''}${c.nullable ? '?' : ''}`,
    );
    out.push(`## ${SHAPES[shape].table}: ${fmtInt(shapeRows[shape])} rows (${cols.join(', ')})`, '');
    const rows = [];
    const verifyRows = [];
    const schemaBy = {};
    for (const writer of writers) {
      if (WRITERS[writer].shapes && !WRITERS[writer].shapes.includes(shape)) continue;
      const mine = runs.filter((r) => r.job.shape === shape && r.job.writer === writer);
      const ok = mine.filter((r) => !r.error);
      if (!ok.length) {
        rows.push([writer, mine[0]?.error?.replace(/\|/g, '/') ?? 'not run', '', '', '', '', '', '', '', '', '']);
        continue;
      }
      const best = ok.reduce((a, b) => (b.result.writeMs < a.result.writeMs ? b : a));
      const hwm = Math.max(...ok.map((r) => r.result.hwmKb));
      const res = best.result;
      rows.push([
        writer,
        secs(res.writeMs),
        fmtInt(res.rows / (res.writeMs / 1000)),
        secs(Math.min(...ok.map((r) => r.result.writeCpuMs))),
        secs(Math.min(...ok.map((r) => r.result.genMs))),
        secs(Math.min(...ok.map((r) => r.wallMs))),
        `${mib(hwm)} (${mib(Math.max(...ok.map((r) => r.sampledPeakRssKb)))})`,
        mib(res.rssAfterInitKb),
        (res.bytes / 1048576).toFixed(1),
        `${res.files.length}`,
        ok.map((r) => secs(r.result.writeMs)).join(' / '),
      ]);
      const last = mine[mine.length - 1];
      if (last.verify) {
        const v = last.verify;
        const sumsBad = v.sums?.filter((s) => !s.ok) ?? [];
        verifyRows.push([
          writer,
          v.meta
            ? `${v.meta.codecs}; ${v.meta.row_groups} row groups (${fmtInt(v.meta.min_rg_rows)}–${fmtInt(v.meta.max_rg_rows)} rows)`
            : '?',
          v.sums
            ? sumsBad.length
              ? `FAIL: ${sumsBad.map((s) => `${s.what} want ${s.want} got ${s.have}`).join('; ')}`
              : `ok (${v.sums.map((s) => s.what).join(', ')})`
            : 'n/a',
          verdictText(v.duckdb),
          verdictText(v.hyparquet),
        ]);
        schemaBy[writer] = v;
      } else if (last.verifyError) verifyRows.push([writer, `verify FAILED: ${last.verifyError}`, '', '', '']);
    }
    out.push(
      table(
        [
          'writer:codec',
          'write s',
          'rows/s',
          'write CPU s',
          'gen s',
          'process wall s',
          'peak RSS MiB: VmHWM (50 ms sampled)',
          'RSS after init MiB',
          'file MiB',
          'files',
          'write s per run',
        ],
        rows,
      ),
      '',
    );
    out.push(
      '"write s" is the time inside the writer (conversion from canonical values, encoding, compression, I/O), i.e. total minus ' +
        'the time spent generating the rows; rows/s = rows / write s (best run). "write CPU s" is user+sys CPU of the ' +
        "process (all threads, so DuckDB's workers too) less the generator's, best run; it is steadier than wall time " +
        'on a loaded machine. "process wall s" includes node start-up, loading the library and generation. ' +
        'Peak RSS is the worst run.',
      '',
    );
    if (verifyRows.length) {
      out.push(
        table(
          [
            'writer:codec',
            'codec / row groups (parquet_metadata)',
            'DuckDB SQL sums vs generated',
            'DuckDB reads every row',
            'hyparquet reads every row',
          ],
          verifyRows,
        ),
        '',
      );
      // Types: one column per writer family (codec does not change the schema).
      const families = [...new Set(Object.keys(schemaBy).map((w) => w.split(':')[0]))];
      const pick = (fam) => schemaBy[Object.keys(schemaBy).find((w) => w.split(':')[0] === fam)];
      const header = ['column (ferry kind)'];
      for (const fam of families) header.push(`${fam}: parquet_schema`, `${fam}: DuckDB reads as`);
      const typeRows = SHAPES[shape].columns.map((c) => {
        const row = [`${c.name} (${c.kind})`];
        for (const fam of families) {
          const v = pick(fam);
          row.push(
            typeText(v.schema?.find((s) => s.name === c.name)),
            v.describe?.find((d) => d.column_name === c.name)?.column_type ?? '?',
          );
        }
        return row;
      });
      out.push(table(header, typeRows), '');
    }
  }
  const report = out.join('\n');
  process.stdout.write(`${report}\n`);
  if (o.json)
    writeFileSync(
      o.json,
      JSON.stringify(runs, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2),
    );
  if (!o.keep) rmSync(o.out, { recursive: true, force: true });
  else process.stderr.write(`files kept in ${o.out}\n`);
}

// ---------------------------------------------------------------- main

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  const [, mode, jobJson] = argv;
  const job = JSON.parse(jobJson);
  try {
    const result = mode === 'write' ? await childWrite(job) : await childVerify(job);
    process.stdout.write(`RESULT ${JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  } catch (err) {
    if (!String(err.message).startsWith('SKIP')) process.stderr.write(`${err.stack}\n`);
    process.stdout.write(`RESULT ${JSON.stringify({ error: err.message })}\n`);
  }
  process.exit(0);
} else {
  let o;
  try {
    o = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`parquet-writers: ${err.message}\n`);
    process.exit(2);
  }
  await parent(o);
}
