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
 * Key expression: text keys compare as the bytes of their UTF-8 form, so ranges follow code-point
 * order like every other dialect here (default collations are case-insensitive and ignore
 * trailing spaces). The price: a text key's index is not used for the range (noted in the docs).
 */
function keyExpr(c: ColumnInfo): string {
  return c.logical.kind === 'text'
    ? `CAST(CONVERT(${quoteIdent(c.name)} USING utf8mb4) AS BINARY)`
    : quoteIdent(c.name);
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
