/**
 * Cast rules: an ordered list, the user's rules first and then the source connector's defaults;
 * the first rule that matches a column decides its logical type and value transform (pgloader's
 * design). Rules are data, printed by `ferry plan` in the syntax users write.
 */
import { ConfigError } from './errors.js';
import type { LogicalType } from './logical-types.js';

/** Data conditions checked by profiling the source (see `Probe`). */
export type CastCondition = 'values-0-1' | 'within-day';

/** Value transforms a rule can name (implemented in engine/transforms.ts, dialect-free). */
export const TRANSFORMS = [
  'int-to-boolean',
  'bits-to-boolean',
  'bits-to-integer',
  'time-to-interval',
  'binary16-to-uuid',
  'keep-as-text',
  'zero-dates-to-null',
  'strip-nul',
] as const;
export type TransformName = (typeof TRANSFORMS)[number];

export interface CastMatch {
  /** Source type: `tinyint(1)` matches that type and parameters; `tinyint` any tinyint. */
  type?: string;
  /** `table.column` or `column`; `*` matches any run of characters. */
  column?: string;
  unsigned?: boolean;
  precision?: number;
  scale?: number;
}

export interface CastRule {
  match: CastMatch;
  /** Profiled condition the data must meet for the rule to apply. */
  when?: CastCondition;
  /** Logical target type, e.g. `boolean`, `decimal(20,0)`, `text`, `uuid`. */
  to?: string;
  transform?: TransformName;
  /** Why the rule exists (defaults) or a note (user rules). */
  why?: string;
}

/** A native type spelled by its database (`bigint(20) unsigned`, `decimal(10,2)`, `enum('a','b')`). */
export interface NativeTypeParts {
  base: string;
  params: string[];
  unsigned: boolean;
}

export function parseNativeType(native: string): NativeTypeParts {
  const s = native.trim().toLowerCase();
  const m = /^([a-z][a-z0-9 _]*?)\s*(?:\((.*)\))?((?:\s+(?:unsigned|signed|zerofill))*)\s*$/.exec(s);
  if (!m) return { base: s, params: [], unsigned: false };
  const params = m[2] === undefined ? [] : m[2].split(',').map((p) => p.trim());
  return { base: m[1].trim(), params, unsigned: /unsigned/.test(m[3] ?? '') };
}

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(text);
}

/** Does a rule's match part apply to a column (conditions aside)? */
export function castMatches(m: CastMatch, table: string, column: string, native: string): boolean {
  const t = parseNativeType(native);
  if (m.type !== undefined) {
    const want = parseNativeType(m.type);
    if (want.base !== t.base) return false;
    if (want.params.length > 0 && want.params.join(',') !== t.params.join(',')) return false;
    if (/unsigned/.test(m.type.toLowerCase()) && !t.unsigned) return false;
  }
  if (m.unsigned !== undefined && m.unsigned !== t.unsigned) return false;
  if (m.precision !== undefined && Number(t.params[0]) !== m.precision) return false;
  if (m.scale !== undefined && Number(t.params[1] ?? 0) !== m.scale) return false;
  if (m.column !== undefined) {
    const target = m.column.includes('.') ? `${table}.${column}` : column;
    if (!globMatch(m.column, target)) return false;
  }
  return true;
}

/** Parses a logical type name as users write it in `to:` (and as formatLogical prints it). */
export function parseLogical(name: string, where = 'cast rule'): LogicalType {
  const s = name.trim().toLowerCase();
  const arr = /^array<(.+)>$/.exec(s);
  if (arr) return { kind: 'array', element: parseLogical(arr[1], where) };
  const dec = /^(?:decimal|numeric)(?:\((\d+)(?:,\s*(\d+))?\))?$/.exec(s);
  if (dec) {
    return dec[1] === undefined
      ? { kind: 'decimal' }
      : { kind: 'decimal', precision: Number(dec[1]), scale: Number(dec[2] ?? 0) };
  }
  const text = /^text(?:\((\d+)\))?$/.exec(s);
  if (text) return text[1] === undefined ? { kind: 'text' } : { kind: 'text', length: Number(text[1]) };
  const simple = [
    'boolean',
    'int16',
    'int32',
    'int64',
    'uint64',
    'float32',
    'float64',
    'bytes',
    'date',
    'time',
    'timestamp',
    'timestamptz',
    'uuid',
    'json',
    'interval',
  ] as const;
  const found = simple.find((k) => k === s);
  if (!found) {
    throw new ConfigError(`${where}: unknown type ${JSON.stringify(name)}`, {
      hint: `use one of ${simple.join(', ')}, decimal(p,s), text(n), array<type>`,
    });
  }
  return { kind: found } as LogicalType;
}

/** A cast rule in the job file's syntax, for `ferry plan`. */
export function formatRule(r: CastRule): string {
  const m = Object.entries(r.match)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`)
    .join(', ');
  const parts = [`match: { ${m} }`];
  if (r.when) parts.push(`when: ${r.when}`);
  if (r.to) parts.push(`to: ${r.to}`);
  if (r.transform) parts.push(`transform: ${r.transform}`);
  return `{ ${parts.join(', ')} }${r.why ? `  # ${r.why}` : ''}`;
}
