/**
 * The hub of logical types. Every connector maps its native types to these and back (as data, in
 * `<dialect>-types.ts`), so N connectors need 2N maps, not N².
 *
 * In-memory representation of a value of each type inside a RowBatch (null is always `null`):
 * | kind        | JS value                                                                  |
 * |-------------|---------------------------------------------------------------------------|
 * | boolean     | boolean                                                                   |
 * | int16/int32 | number                                                                    |
 * | int64/uint64| bigint                                                                    |
 * | decimal     | string, exact (`"12.30"`, `"NaN"`), never a float                          |
 * | float32/64  | number (NaN, ±Infinity and -0 kept)                                        |
 * | text        | string (any Unicode; NUL is a policy matter of the target)                 |
 * | bytes       | Buffer                                                                    |
 * | date        | string `YYYY-MM-DD` (or `infinity`, `-infinity`, `... BC`)                 |
 * | time        | string `HH:MM:SS[.ffffff]`                                                 |
 * | timestamp   | string `YYYY-MM-DD HH:MM:SS[.ffffff]` (no zone; or ±infinity)               |
 * | timestamptz | string `YYYY-MM-DD HH:MM:SS[.ffffff]+00` (always UTC; or ±infinity)        |
 * | uuid        | string, lower case                                                        |
 * | json        | string, the JSON text                                                     |
 * | interval    | string, ISO 8601 duration (`P1Y2M3DT4H5M6.5S`)                            |
 * | array       | JS array (nested for multi-dimensional) of element values                 |
 */
export type LogicalType =
  | { kind: 'boolean' }
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  | { kind: 'uint64' }
  | { kind: 'decimal'; precision?: number; scale?: number }
  | { kind: 'float32' }
  | { kind: 'float64' }
  | { kind: 'text'; length?: number }
  | { kind: 'bytes' }
  | { kind: 'date' }
  | { kind: 'time' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' }
  | { kind: 'uuid' }
  | { kind: 'json' }
  | { kind: 'interval' }
  | { kind: 'array'; element: LogicalType };

export type LogicalKind = LogicalType['kind'];

/** `decimal(12,2)`, `int64`, `array<text>`: the name `ferry plan` prints. */
export function formatLogical(t: LogicalType): string {
  switch (t.kind) {
    case 'decimal':
      return t.precision === undefined ? 'decimal' : `decimal(${t.precision},${t.scale ?? 0})`;
    case 'text':
      return t.length === undefined ? 'text' : `text(${t.length})`;
    case 'array':
      return `array<${formatLogical(t.element)}>`;
    default:
      return t.kind;
  }
}

export function sameLogical(a: LogicalType, b: LogicalType): boolean {
  return formatLogical(a) === formatLogical(b);
}
