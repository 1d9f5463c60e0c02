/**
 * Parquet through `hyparquet-writer` and `hyparquet` (pure JS, no native code).
 *
 * Chosen by measurement (bench/parquet-writers.mjs, 1M rows of data_fact, zstd): hyparquet-writer
 * 1.76 s with memory that follows the row group; DuckDB's `@duckdb/node-api` was not faster per
 * row through its appender, weighs 68 MiB of native code, and its memory grew by about 100 MB per
 * million rows written into one file. Bounded row groups and flat memory decide it.
 *
 * Logical types (documented in docs/lake.md): int16 INT32 INT(16); uint64 INT64 INT(64, unsigned);
 * decimal(p<=38,s) DECIMAL on INT32/INT64/FIXED_LEN_BYTE_ARRAY; wider or unbounded decimals STRING;
 * date DATE; time TIME(MICROS); timestamp TIMESTAMP(MICROS, not UTC); timestamptz
 * TIMESTAMP(MICROS, UTC); uuid UUID; json and arrays JSON; interval STRING; bytes BYTE_ARRAY.
 */
import type { SchemaElement } from 'hyparquet';
import type { LogicalType } from '../../core/logical-types.js';
import { jsonDecoder, jsonEncoder } from './files-codec.js';
import {
  dateToDays,
  daysToDate,
  decimalToScaled,
  microsToTime,
  microsToTimestamp,
  scaledToDecimal,
  TS_INFINITY,
  timestampToMicros,
  timeToMicros,
} from './files-values.js';

export interface ParquetColumn {
  name: string;
  logical: LogicalType;
  nullable: boolean;
}

function decimalBytes(precision: number): number {
  // Smallest two's-complement width that holds 10^p - 1.
  return Math.ceil((precision * Math.log2(10) + 1) / 8);
}

/** Does the column keep the DECIMAL logical type (else it is stored as its exact text)? */
function fixedDecimal(t: LogicalType): t is { kind: 'decimal'; precision: number; scale?: number } {
  return t.kind === 'decimal' && t.precision !== undefined && t.precision <= 38;
}

/** The schema element of a column (the writer is given primitive values: see `toParquetValue`). */
export function schemaElement(c: ParquetColumn): SchemaElement {
  const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
  const base = { name: c.name, repetition_type } as const;
  const t = c.logical;
  switch (t.kind) {
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'int16':
      return {
        ...base,
        type: 'INT32',
        converted_type: 'INT_16',
        logical_type: { type: 'INTEGER', bitWidth: 16, isSigned: true },
      };
    case 'int32':
      return { ...base, type: 'INT32' };
    case 'int64':
      return { ...base, type: 'INT64' };
    case 'uint64':
      return {
        ...base,
        type: 'INT64',
        converted_type: 'UINT_64',
        logical_type: { type: 'INTEGER', bitWidth: 64, isSigned: false },
      };
    case 'float32':
      return { ...base, type: 'FLOAT' };
    case 'float64':
      return { ...base, type: 'DOUBLE' };
    case 'decimal': {
      if (!fixedDecimal(t))
        return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
      const p = t.precision;
      const scale = t.scale ?? 0;
      const dec = {
        converted_type: 'DECIMAL',
        precision: p,
        scale,
        logical_type: { type: 'DECIMAL', precision: p, scale },
      } as const;
      if (p <= 9) return { ...base, type: 'INT32', ...dec };
      if (p <= 18) return { ...base, type: 'INT64', ...dec };
      return { ...base, type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalBytes(p), ...dec };
    }
    case 'bytes':
      return { ...base, type: 'BYTE_ARRAY' };
    case 'date':
      return { ...base, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'time':
      return { ...base, type: 'INT64', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' } };
    case 'timestamp':
      return { ...base, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } };
    case 'timestamptz':
      return {
        ...base,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      };
    case 'uuid':
      return { ...base, type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } };
    case 'json':
    case 'array':
      // Written as UTF8 (hyparquet-writer would re-serialise values under converted_type JSON,
      // changing the text); `jsonFooter` marks the column JSON in the footer.
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'JSON' } };
    default:
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
  }
}

/** The footer's schema: JSON columns carry converted_type JSON (readers such as DuckDB look at it). */
export function jsonFooter(schema: SchemaElement[]): void {
  for (const e of schema) {
    if ((e.logical_type as { type?: string } | undefined)?.type === 'JSON') e.converted_type = 'JSON';
  }
}

/** How the manifest shows a column's storage: `INT64 TIMESTAMP(MICROS, UTC)`. */
export function storedAs(c: ParquetColumn): string {
  const e = schemaElement(c);
  const lt = e.logical_type as
    | { type: string; unit?: string; isAdjustedToUTC?: boolean; precision?: number; scale?: number }
    | undefined;
  let logical = '';
  if (lt?.type === 'TIMESTAMP' || lt?.type === 'TIME')
    logical = ` ${lt.type}(${lt.unit}, ${lt.isAdjustedToUTC ? 'UTC' : 'local'})`;
  else if (lt?.type === 'DECIMAL') logical = ` DECIMAL(${lt.precision},${lt.scale})`;
  else if (lt) logical = ` ${lt.type}`;
  return `${e.type}${e.type_length ? `(${e.type_length})` : ''}${logical}`;
}

/** A logical value -> the primitive the writer takes for the column's schema element. */
export function toParquetValue(t: LogicalType): (v: unknown) => unknown {
  switch (t.kind) {
    case 'uint64':
      return (v) => BigInt.asIntN(64, v as bigint);
    case 'decimal': {
      if (!fixedDecimal(t)) return (v) => String(v);
      const scale = t.scale ?? 0;
      return (v) => {
        const n = decimalToScaled(String(v), scale);
        if (n === null) {
          throw new ParquetValueError(
            `${String(v)} cannot be stored as a Parquet DECIMAL(${t.precision},${scale})`,
            'NaN and infinite numerics have no Parquet DECIMAL form: cast the column to text (casts: [{match: {column: ...}, to: text}]) or write csv/jsonl',
          );
        }
        return n;
      };
    }
    case 'date':
      return (v) => dateToDays(String(v));
    case 'time':
      return (v) => timeToMicros(String(v));
    case 'timestamp':
    case 'timestamptz':
      return (v) => {
        const text = String(v);
        const us = timestampToMicros(text);
        if (text === 'infinity' || text === '-infinity') return us;
        // ±(2^63-1) are the ±infinity markers: a finite value must stay strictly inside them.
        if (us >= TS_INFINITY || us <= -TS_INFINITY) {
          throw new ParquetValueError(
            `${text} is beyond what a Parquet TIMESTAMP(MICROS) holds (about 290,000 years either side of 1970)`,
            'cast the column to text (casts: [{match: {column: ...}, to: text}]) or write csv/jsonl',
          );
        }
        return us;
      };
    case 'json':
      return (v) => String(v);
    case 'array':
      return jsonEncoder(t);
    case 'uuid':
      // 16 bytes straight from the hex (the writer's own string path costs a regex and 16 parseInts).
      return (v) => {
        const b = Buffer.from(String(v).replace(/-/g, ''), 'hex');
        if (b.length !== 16) throw new ParquetValueError(`${String(v)} is not a uuid`, 'check the source column');
        return b;
      };
    default:
      return (v) => v;
  }
}

/** A value the column's Parquet type cannot hold (the writer names the column). */
export class ParquetValueError extends Error {
  column?: string;
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

// ignoreBOM: a text value that starts with U+FEFF keeps it (TextDecoder drops it by default).
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  // Two's complement: a set top bit is negative.
  return b.length > 0 && b[0] & 0x80 ? n - (1n << BigInt(b.length * 8)) : n;
}

/**
 * A primitive as read with every conversion turned off (see `readRowGroups`) -> the logical value.
 */
export function fromParquetValue(t: LogicalType): (v: unknown) => unknown {
  switch (t.kind) {
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
    case 'boolean':
      return (v) => v;
    case 'int64':
      return (v) => BigInt(v as bigint);
    case 'uint64':
      return (v) => BigInt.asUintN(64, BigInt(v as bigint));
    case 'decimal': {
      if (!fixedDecimal(t)) return (v) => utf8.decode(v as Uint8Array);
      const scale = t.scale ?? 0;
      return (v) => scaledToDecimal(v instanceof Uint8Array ? bytesToBigInt(v) : BigInt(v as number | bigint), scale);
    }
    case 'bytes':
      return (v) => Buffer.from(v as Uint8Array);
    case 'date':
      return (v) => daysToDate(v as number);
    case 'time':
      return (v) => microsToTime(BigInt(v as bigint));
    case 'timestamp':
      return (v) => microsToTimestamp(BigInt(v as bigint), false);
    case 'timestamptz':
      return (v) => microsToTimestamp(BigInt(v as bigint), true);
    case 'uuid':
      return (v) => {
        const h = Buffer.from(v as Uint8Array).toString('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      };
    case 'array': {
      const dec = jsonDecoder(t);
      return (v) => dec(JSON.parse(utf8.decode(v as Uint8Array)));
    }
    default:
      return (v) => utf8.decode(v as Uint8Array);
  }
}

/** hyparquet's view of a stored object: its length and ranged reads. */
export interface AsyncBuffer {
  byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

/**
 * Reads a Parquet file a row group at a time, as arrays of primitives in `columns` order, with
 * hyparquet's conversions turned off (it turns DECIMAL into a float and timestamps into a
 * millisecond Date): the caller converts by the logical types it knows.
 */
export async function* readRowGroups(file: AsyncBuffer, columns: readonly string[]): AsyncIterable<unknown[][]> {
  const { parquetMetadataAsync, parquetRead } = await import('hyparquet');
  const { decompress } = await import('fzstd');
  const { gunzipSync } = await import('node:zlib');
  // hyparquet reads snappy itself; the others are given (fzstd: pure JS zstd).
  const compressors = {
    ZSTD: (input: Uint8Array) => decompress(input),
    GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  };
  const meta = await parquetMetadataAsync(file);
  const raw = {
    ...meta,
    schema: meta.schema.map((e, i) => (i === 0 ? e : { ...e, converted_type: undefined, logical_type: undefined })),
  };
  let start = 0;
  for (const rg of meta.row_groups) {
    const n = Number(rg.num_rows);
    let rows: unknown[][] = [];
    await parquetRead({
      file,
      metadata: raw,
      columns: [...columns],
      rowStart: start,
      rowEnd: start + n,
      utf8: false,
      compressors,
      rowFormat: 'array',
      onComplete: (r) => {
        rows = r as unknown[][];
      },
    });
    start += n;
    yield rows;
  }
}

/** A column of a Parquet file ferry did not write: its logical type and how to read its values. */
export interface ParquetSourceColumn {
  name: string;
  logical: LogicalType;
  /** Primitive as read (conversions off) -> logical value. */
  convert: (v: unknown) => unknown;
  nullable: boolean;
  /** How it is stored (`INT64 TIMESTAMP(MILLIS, UTC)`), for `ferry plan`. */
  stored: string;
  note?: string;
}

/** Floor division of bigints (toward minus infinity, for instants before 1970). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && a < 0n) !== b < 0n ? q - 1n : q;
}

const UNIT_TO_MICROS: Record<string, (v: bigint) => bigint> = {
  MILLIS: (v) => v * 1000n,
  MICROS: (v) => v,
  NANOS: (v) => floorDiv(v, 1000n),
};

/** Julian day of 1970-01-01 (INT96 timestamps count days from the Julian epoch). */
const JULIAN_UNIX_EPOCH = 2440588n;

interface ElementTypes {
  type?: string;
  converted_type?: string;
  logical_type?: { type: string; unit?: string; isAdjustedToUTC?: boolean; bitWidth?: number; isSigned?: boolean };
  precision?: number;
  scale?: number;
  type_length?: number;
}

function unitOf(lt: ElementTypes['logical_type'], ct: string | undefined): string {
  const u = lt?.unit as unknown;
  // hyparquet gives the unit as a string; the thrift union may also come through as an object.
  if (typeof u === 'string') return u;
  if (u && typeof u === 'object') return Object.keys(u)[0] ?? 'MICROS';
  return ct?.endsWith('MILLIS') ? 'MILLIS' : 'MICROS';
}

function decimalColumn(e: ElementTypes): Pick<ParquetSourceColumn, 'logical' | 'convert'> {
  const precision = e.precision ?? 38;
  const scale = e.scale ?? 0;
  return {
    logical: { kind: 'decimal', precision, scale },
    convert: (v) => scaledToDecimal(v instanceof Uint8Array ? bytesToBigInt(v) : BigInt(v as number | bigint), scale),
  };
}

/**
 * The logical type of a flat Parquet column written by any writer (DuckDB, Spark, pandas, AWS
 * DMS), from its physical type and its logical or converted type annotation.
 */
export function parquetSourceColumn(e: SchemaElement): ParquetSourceColumn {
  const t = e as unknown as ElementTypes;
  const lt = t.logical_type;
  const ct = t.converted_type;
  const ann = lt?.type ?? ct;
  const base = { name: e.name, nullable: e.repetition_type !== 'REQUIRED' };
  const same = (logical: LogicalType) => ({ logical, convert: fromParquetValue(logical) });
  let col: Pick<ParquetSourceColumn, 'logical' | 'convert'> & { note?: string };
  if (ann === 'DECIMAL') col = decimalColumn(t);
  else if (ann === 'DATE') col = same({ kind: 'date' });
  else if (ann === 'TIMESTAMP' || ct === 'TIMESTAMP_MILLIS' || ct === 'TIMESTAMP_MICROS') {
    const utc = lt ? lt.isAdjustedToUTC !== false : true;
    const toMicros = UNIT_TO_MICROS[unitOf(lt, ct)];
    col = {
      logical: { kind: utc ? 'timestamptz' : 'timestamp' },
      convert: (v) => microsToTimestamp(toMicros(BigInt(v as bigint)), utc),
      note: unitOf(lt, ct) === 'NANOS' ? 'nanoseconds cut to microseconds' : undefined,
    };
  } else if (ann === 'TIME' || ct === 'TIME_MILLIS' || ct === 'TIME_MICROS') {
    const toMicros = UNIT_TO_MICROS[unitOf(lt, ct)];
    col = { logical: { kind: 'time' }, convert: (v) => microsToTime(toMicros(BigInt(v as number | bigint))) };
  } else if (ann === 'UUID') col = same({ kind: 'uuid' });
  else if (ann === 'JSON') col = { logical: { kind: 'json' }, convert: (v) => utf8.decode(v as Uint8Array) };
  else if (ann === 'STRING' || ann === 'UTF8' || ann === 'ENUM')
    col = { logical: { kind: 'text' }, convert: (v) => utf8.decode(v as Uint8Array) };
  else if (t.type === 'INT32') {
    const width =
      lt?.bitWidth ?? (ct === 'INT_8' || ct === 'UINT_8' ? 8 : ct === 'INT_16' || ct === 'UINT_16' ? 16 : 32);
    const unsigned = lt ? lt.isSigned === false : ct?.startsWith('UINT') === true;
    if (unsigned && width === 32) col = { logical: { kind: 'int64' }, convert: (v) => BigInt((v as number) >>> 0) };
    else if (!unsigned && width <= 16) col = same({ kind: 'int16' });
    else col = same({ kind: 'int32' });
  } else if (t.type === 'INT64') {
    const unsigned = lt ? lt.isSigned === false : ct === 'UINT_64';
    col = same({ kind: unsigned ? 'uint64' : 'int64' });
  } else if (t.type === 'INT96') {
    // Legacy Spark/Impala timestamps: nanoseconds of the day, then the Julian day.
    col = {
      logical: { kind: 'timestamp' },
      convert: (v) => {
        const x = v as bigint;
        const day = x >> 64n;
        const nanos = BigInt.asUintN(64, x);
        return microsToTimestamp((day - JULIAN_UNIX_EPOCH) * 86_400_000_000n + nanos / 1000n, false);
      },
      note: 'INT96 timestamp (legacy), read as a timestamp without time zone',
    };
  } else if (t.type === 'BOOLEAN') col = same({ kind: 'boolean' });
  else if (t.type === 'FLOAT') col = same({ kind: 'float32' });
  else if (t.type === 'DOUBLE') col = same({ kind: 'float64' });
  else col = same({ kind: 'bytes' });
  const unit = ann === 'TIMESTAMP' || ann === 'TIME' ? `(${unitOf(lt, ct)}${lt?.isAdjustedToUTC ? ', UTC' : ''})` : '';
  return { ...base, ...col, stored: `${t.type}${ann ? ` ${ann}${unit}` : ''}` };
}
