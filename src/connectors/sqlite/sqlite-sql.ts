import type { ColumnInfo, KeyRange } from '../../core/connector.js';
import type { TableRef } from '../../core/identifiers.js';
import { encoderFor, type SqliteValue } from './sqlite-values.js';

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQLite has one namespace per database file: the schema part of a ref is ignored (or `main`). */
export function quoteTable(ref: TableRef): string {
  return quoteIdent(ref.name);
}

function tuple(parts: string[]): string {
  return parts.length === 1 ? parts[0] : `(${parts.join(', ')})`;
}

/** `WHERE` clause and parameters of a key range `(lo, hi]` (row values need SQLite >= 3.15). */
export function rangeWhere(key: readonly ColumnInfo[], range: KeyRange | null): { sql: string; params: SqliteValue[] } {
  if (!range || key.length === 0) return { sql: '', params: [] };
  const k = tuple(key.map((c) => quoteIdent(c.name)));
  const q = tuple(key.map(() => '?'));
  const enc = key.map((c) => encoderFor(c.logical));
  const parts: string[] = [];
  const params: SqliteValue[] = [];
  if (range.lo) {
    parts.push(`${k} > ${q}`);
    params.push(...range.lo.map((v, i) => enc[i](v)));
  }
  if (range.hi) {
    parts.push(`${k} <= ${q}`);
    params.push(...range.hi.map((v, i) => enc[i](v)));
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}
