/**
 * MySQL/MariaDB <-> logical type maps, kept as data, and the default cast rules that decide the
 * cases a plain map cannot (tinyint(1), unsigned bigint, time beyond a day, bit, binary(16)).
 * `ferry plan` prints the rules in effect in the same syntax users write in `casts:`.
 */
import type { CastRule } from '../../core/cast-rules.js';
import type { LogicalType } from '../../core/logical-types.js';

/** DATA_TYPE (information_schema) -> logical, before cast rules. */
export const MYSQL_NATIVE_TO_LOGICAL: Readonly<Record<string, LogicalType>> = {
  tinyint: { kind: 'int16' },
  // Signed smallint is exactly int16 (the unsigned one is widened by a cast rule below).
  smallint: { kind: 'int16' },
  mediumint: { kind: 'int32' },
  int: { kind: 'int32' },
  integer: { kind: 'int32' },
  bigint: { kind: 'int64' },
  decimal: { kind: 'decimal' },
  numeric: { kind: 'decimal' },
  float: { kind: 'float32' },
  double: { kind: 'float64' },
  real: { kind: 'float64' },
  bit: { kind: 'bytes' },
  year: { kind: 'int16' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  datetime: { kind: 'timestamp' },
  timestamp: { kind: 'timestamptz' },
  char: { kind: 'text' },
  varchar: { kind: 'text' },
  tinytext: { kind: 'text' },
  text: { kind: 'text' },
  mediumtext: { kind: 'text' },
  longtext: { kind: 'text' },
  enum: { kind: 'text' },
  set: { kind: 'text' },
  json: { kind: 'json' },
  binary: { kind: 'bytes' },
  varbinary: { kind: 'bytes' },
  tinyblob: { kind: 'bytes' },
  blob: { kind: 'bytes' },
  mediumblob: { kind: 'bytes' },
  longblob: { kind: 'bytes' },
  uuid: { kind: 'uuid' },
  inet4: { kind: 'text' },
  inet6: { kind: 'text' },
  // Spatial values are read in MySQL's internal form (4-byte SRID + WKB), as bytes.
  geometry: { kind: 'bytes' },
  point: { kind: 'bytes' },
  linestring: { kind: 'bytes' },
  polygon: { kind: 'bytes' },
  multipoint: { kind: 'bytes' },
  multilinestring: { kind: 'bytes' },
  multipolygon: { kind: 'bytes' },
  geometrycollection: { kind: 'bytes' },
  geomcollection: { kind: 'bytes' },
};

/**
 * Default cast rules for a MySQL source, after the user's own (first match wins). Each names why
 * it exists; `when` conditions are checked by profiling the source data.
 */
export const MYSQL_DEFAULT_CAST_RULES: readonly CastRule[] = [
  {
    match: { type: 'tinyint(1)' },
    when: 'values-0-1',
    to: 'boolean',
    transform: 'int-to-boolean',
    why: 'tinyint(1) holding only 0, 1 and NULL is a boolean',
  },
  {
    match: { type: 'tinyint(1)' },
    to: 'int16',
    why: 'tinyint(1) holding other values than 0/1 stays an integer',
  },
  { match: { type: 'tinyint', unsigned: true }, to: 'int16', why: 'tinyint unsigned (0..255) fits smallint' },
  { match: { type: 'smallint', unsigned: true }, to: 'int32', why: 'smallint unsigned (0..65535) fits integer' },
  { match: { type: 'mediumint', unsigned: true }, to: 'int32', why: 'mediumint unsigned fits integer' },
  { match: { type: 'int', unsigned: true }, to: 'int64', why: 'int unsigned (0..4294967295) fits bigint' },
  {
    match: { type: 'bigint', unsigned: true },
    to: 'decimal(20,0)',
    why: 'bigint unsigned reaches 18446744073709551615, above a signed 64-bit integer: never overflow',
  },
  { match: { type: 'bit(1)' }, to: 'boolean', transform: 'bits-to-boolean', why: 'bit(1) is a flag' },
  {
    match: { type: 'bit(64)' },
    to: 'decimal(20,0)',
    transform: 'bits-to-integer',
    why: 'bit(64) reaches 2^64-1, above a signed 64-bit integer: never overflow',
  },
  { match: { type: 'bit' }, to: 'int64', transform: 'bits-to-integer', why: 'bit(n), n < 64, as its unsigned value' },
  {
    match: { type: 'time' },
    when: 'within-day',
    to: 'time',
    why: 'every value is within 00:00:00..24:00:00',
  },
  {
    match: { type: 'time' },
    to: 'interval',
    transform: 'time-to-interval',
    why: 'values beyond 24h or negative (MySQL time is a duration up to 838:59:59)',
  },
  { match: { type: 'year' }, to: 'int16', why: 'a year is a small integer' },
  { match: { type: 'enum' }, to: 'text', why: 'enum labels as text' },
  { match: { type: 'set' }, to: 'text', why: "set members as comma-separated text ('a,b')" },
];

/** Logical -> MySQL native, for tables ferry creates (InnoDB, utf8mb4, binary collation). */
export function mysqlTypeFor(
  t: LogicalType,
  context: { key: boolean; keyParts?: number; keyReserve?: number },
): { type: string; lossy?: string; logical?: LogicalType } {
  // InnoDB keys hold at most 3072 bytes: each part of an n-column key gets an equal share (less 32
  // bytes for each other part, which need not be text), at 4 bytes a character for text. A key's
  // only text part beside fixed-width ones gets all but their bytes (`keyReserve`).
  const parts = Math.max(1, context.keyParts ?? 1);
  const keyBytes =
    context.keyReserve !== undefined ? 3072 - context.keyReserve : Math.floor((3072 - 32 * (parts - 1)) / parts);
  const keyChars = Math.floor(keyBytes / 4);
  switch (t.kind) {
    case 'boolean':
      return { type: 'tinyint(1)' };
    case 'int16':
      return { type: 'smallint' };
    case 'int32':
      return { type: 'int' };
    case 'int64':
      return { type: 'bigint' };
    case 'uint64':
      return { type: 'bigint unsigned' };
    case 'decimal':
      if (t.precision === undefined) {
        return {
          type: 'decimal(65,30)',
          lossy: 'numeric without precision becomes decimal(65,30): larger or finer values are out of range',
          logical: { kind: 'decimal', precision: 65, scale: 30 },
        };
      }
      if (t.precision > 65 || (t.scale ?? 0) > 30) {
        const scale = Math.min(30, t.scale ?? 0);
        return {
          type: `decimal(65,${scale})`,
          lossy: `decimal(${t.precision},${t.scale}) exceeds MySQL's decimal(65,30)`,
          logical: { kind: 'decimal', precision: 65, scale },
        };
      }
      return { type: `decimal(${t.precision},${t.scale ?? 0})` };
    case 'float32':
      return { type: 'float' };
    case 'float64':
      return { type: 'double' };
    case 'text':
      // A key or indexed column needs a bounded length (its share of the 3072-byte key limit).
      if (context.key && (t.length === undefined || t.length > keyChars)) {
        return { type: `varchar(${keyChars})`, lossy: `text key column limited to ${keyChars} characters` };
      }
      if (t.length !== undefined && t.length <= 16383) return { type: `varchar(${t.length})` };
      return { type: 'longtext' };
    case 'bytes':
      return context.key
        ? { type: `varbinary(${keyBytes})`, lossy: `bytes key column limited to ${keyBytes} bytes` }
        : { type: 'longblob' };
    case 'date':
      return { type: 'date' };
    case 'time':
      return { type: 'time(6)' };
    case 'timestamp':
      return { type: 'datetime(6)' };
    case 'timestamptz':
      return { type: 'datetime(6)', lossy: 'timestamp with time zone stored as a UTC datetime(6)' };
    case 'uuid':
      return { type: 'char(36)' };
    case 'json':
      return { type: 'json' };
    case 'interval':
      return { type: 'varchar(64)', lossy: 'interval stored as ISO 8601 text' };
    case 'array':
      return { type: 'json', lossy: 'array stored as a JSON array' };
  }
}
