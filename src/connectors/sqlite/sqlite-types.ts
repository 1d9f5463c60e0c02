/**
 * SQLite <-> logical type maps, kept as data. SQLite stores values by "affinity" derived from the
 * declared type's name, so the names ferry declares are chosen to keep values exact: decimals and
 * JSON get names containing TEXT (a NUMERIC affinity would turn "1.10" into the float 1.1), other
 * types keep their usual names because their text forms never look like numbers.
 */
import type { LogicalType } from '../../core/logical-types.js';

/** Declared type (upper case, without parameters) -> logical; first exact match wins. */
export const SQLITE_NATIVE_TO_LOGICAL: Readonly<Record<string, LogicalType>> = {
  BOOLEAN: { kind: 'boolean' },
  BOOL: { kind: 'boolean' },
  SMALLINT: { kind: 'int16' },
  INT2: { kind: 'int16' },
  INT4: { kind: 'int32' },
  INTEGER: { kind: 'int64' },
  INT: { kind: 'int64' },
  BIGINT: { kind: 'int64' },
  INT8: { kind: 'int64' },
  TINYINT: { kind: 'int64' },
  MEDIUMINT: { kind: 'int64' },
  'UNSIGNED BIG INT': { kind: 'uint64' },
  REAL: { kind: 'float64' },
  DOUBLE: { kind: 'float64' },
  'DOUBLE PRECISION': { kind: 'float64' },
  FLOAT: { kind: 'float64' },
  FLOAT4: { kind: 'float32' },
  FLOAT8: { kind: 'float64' },
  TEXT: { kind: 'text' },
  CLOB: { kind: 'text' },
  VARCHAR: { kind: 'text' },
  NVARCHAR: { kind: 'text' },
  CHAR: { kind: 'text' },
  NCHAR: { kind: 'text' },
  'CHARACTER VARYING': { kind: 'text' },
  CHARACTER: { kind: 'text' },
  BLOB: { kind: 'bytes' },
  NUMERIC: { kind: 'decimal' },
  DECIMAL: { kind: 'decimal' },
  DECIMAL_TEXT: { kind: 'decimal' },
  DATE: { kind: 'date' },
  TIME: { kind: 'time' },
  DATETIME: { kind: 'timestamp' },
  TIMESTAMP: { kind: 'timestamp' },
  TIMESTAMPTZ: { kind: 'timestamptz' },
  UUID: { kind: 'uuid' },
  JSON: { kind: 'json' },
  JSONB: { kind: 'json' },
  JSON_TEXT: { kind: 'json' },
  INTERVAL: { kind: 'interval' },
};

/** Logical -> declared type for tables ferry creates. */
export function sqliteTypeFor(t: LogicalType): string {
  switch (t.kind) {
    case 'boolean':
      return 'BOOLEAN';
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INT4';
    case 'int64':
      return 'BIGINT';
    case 'uint64':
      return 'DECIMAL_TEXT(20,0)';
    case 'decimal':
      return t.precision === undefined ? 'DECIMAL_TEXT' : `DECIMAL_TEXT(${t.precision},${t.scale ?? 0})`;
    case 'float32':
      return 'FLOAT4';
    case 'float64':
      return 'REAL';
    case 'text':
      return t.length === undefined ? 'TEXT' : `VARCHAR(${t.length})`;
    case 'bytes':
      return 'BLOB';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'timestamptz':
      return 'TIMESTAMPTZ';
    case 'uuid':
      return 'UUID';
    case 'json':
      return 'JSON_TEXT';
    case 'interval':
      return 'INTERVAL';
    case 'array':
      return `${sqliteTypeFor(t.element).replace(/\(.*\)$/, '')}[]`;
  }
}

/** Logical type of a declared SQLite column type, by name first and SQLite's affinity rules after. */
export function sqliteLogicalFor(declared: string): { logical: LogicalType; note?: string } {
  const d = declared.trim().toUpperCase();
  if (d.endsWith('[]')) {
    const inner = sqliteLogicalFor(d.slice(0, -2));
    return { logical: { kind: 'array', element: inner.logical }, note: inner.note };
  }
  const m = /^(.*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(d);
  const base = (m?.[1] ?? d).replace(/\s+/g, ' ');
  const p = m?.[2] === undefined ? undefined : Number(m[2]);
  const s = m?.[3] === undefined ? undefined : Number(m[3]);
  const known = SQLITE_NATIVE_TO_LOGICAL[base];
  if (known) {
    if (known.kind === 'decimal' && p !== undefined) {
      const note = base === 'DECIMAL_TEXT' ? undefined : 'NUMERIC affinity: values were stored by SQLite as numbers';
      return { logical: { kind: 'decimal', precision: p, scale: s ?? 0 }, note };
    }
    if (known.kind === 'text' && p !== undefined && base !== 'TEXT') return { logical: { kind: 'text', length: p } };
    return { logical: known };
  }
  // SQLite's own affinity rules (https://sqlite.org/datatype3.html, 3.1).
  if (base === '') return { logical: { kind: 'text' }, note: 'untyped column read as text' };
  if (base.includes('INT')) return { logical: { kind: 'int64' } };
  if (/CHAR|CLOB|TEXT/.test(base)) return { logical: { kind: 'text' } };
  if (base.includes('BLOB')) return { logical: { kind: 'bytes' } };
  if (/REAL|FLOA|DOUB/.test(base)) return { logical: { kind: 'float64' } };
  return { logical: { kind: 'decimal' }, note: `type ${declared} has NUMERIC affinity; read as decimal` };
}
