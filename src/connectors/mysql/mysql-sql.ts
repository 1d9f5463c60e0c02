import type { ColumnInfo, KeyRange } from '../../core/connector.js';
import type { TableRef } from '../../core/identifiers.js';
import { encodeParam } from './mysql-values.js';

export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

export function quoteTable(ref: TableRef): string {
  return ref.schema === null ? quoteIdent(ref.name) : `${quoteIdent(ref.schema)}.${quoteIdent(ref.name)}`;
}

/**
 * Key expression: the column itself, compared in its own collation, so the key's index serves
 * every chunk range (a binary cast of a text key made each chunk a full scan). Ranges taken from the
 * same table in the same collation still hold each row exactly once. Another dialect may order text
 * keys differently (case-insensitive collations, trailing spaces): verify then compares the whole
 * stream's digest when rows cross chunk bounds (digests add up; see engine/verifier.ts).
 */
function keyExpr(c: ColumnInfo): string {
  return quoteIdent(c.name);
}

function tuple(parts: string[]): string {
  return parts.length === 1 ? parts[0] : `(${parts.join(', ')})`;
}

/** `WHERE` clause and values of a key range `(lo, hi]`, for the driver's `?` placeholders. */
export function rangeWhere(key: readonly ColumnInfo[], range: KeyRange | null): { sql: string; values: unknown[] } {
  if (!range || key.length === 0) return { sql: '', values: [] };
  const k = tuple(key.map(keyExpr));
  const q = tuple(key.map(() => '?'));
  const parts: string[] = [];
  const values: unknown[] = [];
  if (range.lo) {
    parts.push(`${k} > ${q}`);
    values.push(...range.lo.map((v, i) => encodeParam(key[i].logical, v)));
  }
  if (range.hi) {
    parts.push(`${k} <= ${q}`);
    values.push(...range.hi.map((v, i) => encodeParam(key[i].logical, v)));
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', values };
}

export function orderBy(key: readonly ColumnInfo[]): string {
  return key.length ? ` ORDER BY ${key.map(keyExpr).join(', ')}` : '';
}
