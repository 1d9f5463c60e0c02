/**
 * DuckDB as an independent reader of what ferry writes (Parquet, CSV, JSON): one in-memory
 * instance per test process, opened on first use. Local files only; tests download from S3 first.
 */
import {
  createDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBDecimalValue,
  DuckDBInstance,
  type DuckDBTimestampTZValue,
  DuckDBTypeId,
  type DuckDBValueConverter,
  JSDuckDBValueConverter,
  timestampValue,
} from '@duckdb/node-api';

/**
 * What each DuckDB type becomes, chosen so that no value is rounded on the way to the test:
 *
 * - BOOLEAN -> boolean; TINYINT..INTEGER, UTINYINT..UINTEGER, FLOAT, DOUBLE -> number
 *   (NaN and ±Infinity stay numbers)
 * - BIGINT, UBIGINT, HUGEINT, UHUGEINT, BIGNUM -> bigint
 * - DECIMAL -> string, exact, with all `scale` digits ('12.50' for DECIMAL(10,2))
 * - VARCHAR, ENUM, UUID -> string
 * - BLOB -> Uint8Array (a Buffer at run time); BIT -> Uint8Array (the library's packed form)
 * - DATE -> 'YYYY-MM-DD'; TIME -> 'HH:MM:SS[.ffffff]'; TIME_NS -> 'HH:MM:SS[.fffffffff]';
 *   TIMETZ -> 'HH:MM:SS[.ffffff]+HH[:MM]'
 * - TIMESTAMP, TIMESTAMP_S/_MS/_NS -> 'YYYY-MM-DD HH:MM:SS[.fraction]' (as DuckDB prints them;
 *   'infinity' / '-infinity' too)
 * - TIMESTAMPTZ -> the instant in UTC, 'YYYY-MM-DD HH:MM:SS[.ffffff]+00', whatever the process TZ is
 * - INTERVAL -> { months: number, days: number, micros: bigint }
 * - LIST, ARRAY -> arrays; STRUCT -> objects; MAP -> { key, value }[]; UNION -> { tag, value }
 *   (elements converted by these same rules)
 * - NULL -> null
 */
const asText: DuckDBValueConverter<unknown> = (value) => String(value);
// Start from the library's JS converter for every type and override the lossy ones. Nested values
// (LIST, STRUCT, ...) recurse through the converter passed down, i.e. this one, so a DECIMAL inside a
// list is exact too.
const converter = createDuckDBValueConverter<unknown>({
  ...(Object.fromEntries(
    Object.values(DuckDBTypeId)
      .filter((id): id is DuckDBTypeId => typeof id === 'number')
      .map((id) => [id, JSDuckDBValueConverter]),
  ) as Record<DuckDBTypeId, DuckDBValueConverter<unknown>>),
  [DuckDBTypeId.DECIMAL]: (value) => (value as DuckDBDecimalValue).toString(),
  [DuckDBTypeId.DATE]: asText,
  [DuckDBTypeId.TIME]: asText,
  [DuckDBTypeId.TIME_NS]: asText,
  [DuckDBTypeId.TIME_TZ]: asText,
  [DuckDBTypeId.TIMESTAMP]: asText,
  [DuckDBTypeId.TIMESTAMP_S]: asText,
  [DuckDBTypeId.TIMESTAMP_MS]: asText,
  [DuckDBTypeId.TIMESTAMP_NS]: asText,
  // The library renders TIMESTAMPTZ in the process's local zone; pin it to UTC instead.
  [DuckDBTypeId.TIMESTAMP_TZ]: (value) => {
    const text = timestampValue((value as DuckDBTimestampTZValue).micros).toString();
    return text.endsWith('infinity') ? text : `${text}+00`;
  },
});

let connection: Promise<DuckDBConnection> | undefined;
let instance: DuckDBInstance | undefined;

function connect(): Promise<DuckDBConnection> {
  connection ??= (async () => {
    instance = await DuckDBInstance.create(':memory:');
    return instance.connect();
  })();
  return connection;
}

/** Runs SQL (e.g. `SELECT * FROM read_parquet('dir/**\/*.parquet', hive_partitioning = true)`). */
export async function duckQuery(sql: string): Promise<Record<string, unknown>[]> {
  const reader = await (await connect()).runAndReadAll(sql);
  return reader.convertRowObjects(converter);
}

/** Releases the shared instance; the next duckQuery opens a fresh one. */
export async function closeDuck(): Promise<void> {
  const pending = connection;
  connection = undefined;
  if (!pending) return;
  try {
    (await pending).closeSync();
  } finally {
    instance?.closeSync();
    instance = undefined;
  }
}
