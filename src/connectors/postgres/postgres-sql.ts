import { canonicalFloat } from '../../core/canonical.js';
import type { ColumnInfo, KeyRange, KeyTuple, PageRange } from '../../core/connector.js';
import type { TableRef } from '../../core/identifiers.js';
import type { LogicalType } from '../../core/logical-types.js';

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteTable(ref: TableRef): string {
  return ref.schema === null ? quoteIdent(ref.name) : `${quoteIdent(ref.schema)}.${quoteIdent(ref.name)}`;
}

/** A SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1). */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * A typed SQL literal of a key value. COPY takes no bind parameters, so chunk bounds are inlined;
 * every value goes through quoteLiteral and an explicit cast to the column's own type.
 */
export function keyLiteral(col: ColumnInfo, v: unknown): string {
  return `${quoteLiteral(literalText(col.logical, v))}::${col.nativeType}`;
}

function literalText(t: LogicalType, v: unknown): string {
  switch (t.kind) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'float32':
    case 'float64':
      return canonicalFloat(v as number);
    case 'bytes':
      return `\\x${(v as Buffer).toString('hex')}`;
    default:
      return String(v);
  }
}

/**
 * Key expression list: the columns in their own collation, so the primary key's index serves every
 * chunk range (pinning COLLATE "C" on a text key of a non-C database made each chunk a full scan).
 * Ranges from the same table in the same collation hold each row exactly once; verify compares the
 * whole stream's digest when another dialect orders text keys differently.
 */
function keyExprs(key: readonly ColumnInfo[]): string[] {
  return key.map((c) => quoteIdent(c.name));
}

function tuple(parts: string[]): string {
  return parts.length === 1 ? parts[0] : `(${parts.join(', ')})`;
}

function bound(key: readonly ColumnInfo[], t: KeyTuple): string {
  return tuple(key.map((c, i) => keyLiteral(c, t[i])));
}

/** `WHERE` clause of a key range `(lo, hi]`, or '' for the whole table. */
export function rangeWhere(key: readonly ColumnInfo[], range: KeyRange | null): string {
  if (!range || key.length === 0) return '';
  const k = tuple(keyExprs(key));
  const parts: string[] = [];
  if (range.lo) parts.push(`${k} > ${bound(key, range.lo)}`);
  if (range.hi) parts.push(`${k} <= ${bound(key, range.hi)}`);
  return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
}

/** `WHERE` clause of a page range, read by a TID range scan (PostgreSQL 14+). */
export function pagesWhere(p: PageRange): string {
  for (const n of [p.from, p.to ?? 0]) {
    // The range comes from a stored plan: inlined, it must be a page number and nothing else.
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a page number: ${JSON.stringify(n)}`);
  }
  const parts: string[] = [];
  if (p.from > 0) parts.push(`ctid >= '(${p.from},0)'::tid`);
  if (p.to !== null) parts.push(`ctid < '(${p.to},0)'::tid`);
  return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
}

export function orderBy(key: readonly ColumnInfo[]): string {
  return key.length ? ` ORDER BY ${keyExprs(key).join(', ')}` : '';
}

/** Truncates an identifier to PostgreSQL's 63 bytes without splitting a character. */
export function pgIdent(name: string): string {
  let out = name;
  while (Buffer.byteLength(out) > 63) out = out.slice(0, -1);
  return out;
}
