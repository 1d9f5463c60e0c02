/**
 * PostgreSQL <-> logical type maps, kept as data. `ferry plan` prints the mapping of every column;
 * same-dialect copies (PG -> PG) keep the native type and never go through these maps for the
 * built-in types.
 */
import type { LogicalType } from '../../core/logical-types.js';

/** Native (as `format_type` prints it, without modifiers) -> logical. */
export const PG_NATIVE_TO_LOGICAL: Readonly<Record<string, LogicalType>> = {
  boolean: { kind: 'boolean' },
  smallint: { kind: 'int16' },
  integer: { kind: 'int32' },
  bigint: { kind: 'int64' },
  numeric: { kind: 'decimal' },
  real: { kind: 'float32' },
  'double precision': { kind: 'float64' },
  text: { kind: 'text' },
  'character varying': { kind: 'text' },
  character: { kind: 'text' },
  name: { kind: 'text' },
  citext: { kind: 'text' },
  bytea: { kind: 'bytes' },
  date: { kind: 'date' },
  'time without time zone': { kind: 'time' },
  'timestamp without time zone': { kind: 'timestamp' },
  'timestamp with time zone': { kind: 'timestamptz' },
  uuid: { kind: 'uuid' },
  json: { kind: 'json' },
  jsonb: { kind: 'json' },
  interval: { kind: 'interval' },
};

/** Logical -> native, for tables created from another dialect's source. */
export function pgTypeFor(t: LogicalType): string {
  switch (t.kind) {
    case 'boolean':
      return 'boolean';
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'uint64':
      return 'numeric(20,0)';
    case 'decimal':
      return t.precision === undefined ? 'numeric' : `numeric(${t.precision},${t.scale ?? 0})`;
    case 'float32':
      return 'real';
    case 'float64':
      return 'double precision';
    case 'text':
      return t.length === undefined ? 'text' : `character varying(${t.length})`;
    case 'bytes':
      return 'bytea';
    case 'date':
      return 'date';
    case 'time':
      return 'time without time zone';
    case 'timestamp':
      return 'timestamp without time zone';
    case 'timestamptz':
      return 'timestamp with time zone';
    case 'uuid':
      return 'uuid';
    case 'json':
      // json, not jsonb: the value is the JSON text, and jsonb would rewrite it (whitespace, key
      // order, duplicate keys, number spelling), so neither the copy nor `ferry verify` would be exact.
      return 'json';
    case 'interval':
      return 'interval';
    case 'array':
      return `${pgTypeFor(t.element)}[]`;
  }
}

/**
 * Logical type of a PostgreSQL column from `format_type()` output (with modifiers) and the
 * type's category (`typcategory`: E enum, A array, ...). Unknown types fall back to text with a note.
 */
export function pgLogicalFor(formatted: string, category: string): { logical: LogicalType; note?: string } {
  if (formatted.endsWith('[]')) {
    const inner = pgLogicalFor(formatted.slice(0, -2), '');
    return { logical: { kind: 'array', element: inner.logical }, note: inner.note };
  }
  const m = /^([a-z ]+?)(?:\((\d+)(?:,(\d+))?\))?( with(?:out)? time zone)?$/.exec(formatted);
  const base = m ? `${m[1]}${m[4] ?? ''}` : formatted;
  if (m && base === 'numeric' && m[2] !== undefined) {
    return { logical: { kind: 'decimal', precision: Number(m[2]), scale: Number(m[3] ?? 0) } };
  }
  if (m && (base === 'character varying' || base === 'character') && m[2] !== undefined) {
    return { logical: { kind: 'text', length: Number(m[2]) } };
  }
  // `interval day to second`, `interval second(3)`: fields restrict the value, the type is interval.
  if (/^interval (year|month|day|hour|minute|second)\b/.test(formatted)) return { logical: { kind: 'interval' } };
  const known = PG_NATIVE_TO_LOGICAL[base];
  if (known) return { logical: known };
  if (category === 'E') return { logical: { kind: 'text' }, note: `enum ${formatted} read as text` };
  return { logical: { kind: 'text' }, note: `type ${formatted} read as its text form` };
}

/** Types whose values PostgreSQL compares with a collation (the chunk range predicate pins "C"). */
export function isCollatable(t: LogicalType): boolean {
  return t.kind === 'text';
}
