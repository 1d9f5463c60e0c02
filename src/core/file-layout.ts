/**
 * How a stream is laid out as files in a lake (a files target): format, compression, partitioning,
 * file bounds. The planner fills it from the job file; the files connector interprets it. A
 * database target ignores it.
 */
export type FileFormat = 'csv' | 'jsonl' | 'parquet';
export type Compression = 'none' | 'gzip' | 'zstd' | 'snappy';
export type Granularity = 'year' | 'month' | 'day' | 'hour';

export const FILE_FORMATS: readonly FileFormat[] = ['csv', 'jsonl', 'parquet'];
export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'zstd', 'snappy'];
export const GRANULARITIES: readonly Granularity[] = ['year', 'month', 'day', 'hour'];

export interface PartitionSpec {
  /** The source column the value comes from. */
  column: string;
  /**
   * A date/timestamp column cut to year, month, day or hour (UTC): the column stays in the files
   * and the directory holds the cut value. Without it the column's own value is the directory and
   * the column is left out of the files (the Hive convention).
   */
  granularity?: Granularity;
  /** The directory key: `column`, or `column_<granularity>`. */
  key: string;
}

export interface CsvOptions {
  delimiter: string;
  quote: string;
  /** The text of a NULL (unquoted). A quoted field is never NULL, so `""` is the empty string. */
  null: string;
  header: boolean;
}

export interface FileLayout {
  format: FileFormat;
  compression: Compression;
  partitionBy: PartitionSpec[];
  /** A new file is started after this many rows (per chunk and partition). */
  fileMaxRows: number;
  /** A new file is started once a file holds about this many bytes (as written, compressed). */
  fileMaxBytes: number;
  /** Parquet row group bound in rows (also bounded by about 64 MiB of values). */
  rowGroupRows: number;
  csv: CsvOptions;
}

/** CSV read from files someone else wrote (a files source): the writer's options plus an escape. */
export interface CsvSourceOptions extends CsvOptions {
  /** Escapes a quote inside a quoted field (`\\"`); default: the quote itself (RFC 4180 `""`). */
  escape: string;
}

/**
 * JSON document columns opened up into real columns (a files source): nested objects become
 * `a__b` columns down to `maxDepth` levels; arrays stay JSON or go to a child table.
 */
export interface FlattenOptions {
  /** The column holding the document (JSON text in CSV); null: the whole JSONL record. */
  column: string | null;
  maxDepth: number;
  separator: string;
  arrays: 'json' | 'child-table';
}

export const DEFAULT_CSV: CsvOptions = { delimiter: ',', quote: '"', null: '', header: true };

/** zstd for Parquet (the best size for the time), gzip for text formats (every tool reads it). */
export function defaultCompression(format: FileFormat): Compression {
  return format === 'parquet' ? 'zstd' : 'gzip';
}

/** `order_date`, `created_at:month` -> a partition spec. */
export function parsePartition(entry: string): PartitionSpec {
  const m = /^(.+?)(?::(year|month|day|hour))?$/.exec(entry);
  const column = m?.[1] ?? entry;
  const granularity = m?.[2] as Granularity | undefined;
  return granularity ? { column, granularity, key: `${column}_${granularity}` } : { column, key: column };
}
