import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { TRANSFORMS } from '../core/cast-rules.js';
import { COMPRESSIONS, FILE_FORMATS } from '../core/file-layout.js';

/** Text encodings a files source reads (kept here and in files-text.ts; the test checks both agree). */
export const SOURCE_ENCODINGS = ['utf-8', 'utf-16', 'utf-16le', 'utf-16be', 'cp1252', 'latin1'] as const;
/** Rows sampled per stream of a files source to infer column types. */
export const DEFAULT_SAMPLE_ROWS = 10_000;

/** Defaults: documented in docs/job-file.md; keep both in step. */
/**
 * 500,000 rows: a chunk read by a key range visits every heap page that holds one of its keys, and
 * when key order is not physical order (random uuids) that is most pages of the table, once per
 * chunk. Measured on the 5.18M-row data_fact table PG->PG: 100,000 rows a chunk 8.6 s, 250,000
 * 7.9 s, 500,000 6.8 s, 1,000,000 6.6 s (too few chunks to balance). A chunk is still under a
 * second of work, so a crash costs little.
 */
export const DEFAULT_CHUNK_ROWS = 500_000;
/**
 * Chunks in flight: one per core of this machine, at least 2 and at most 4. On the 2-core bench
 * machine, where ferry shares the cores with both servers, 4 chunks were slower than 2: PG->PG
 * 5.18M rows `--parallel 4` 4.83 s, 2 4.44 s, 1 4.31 s; MySQL->PG 35 s at 4, 31 s at 2 (one run
 * each). Each chunk is a reader, a writer and a server backend on each side, all busy: more of
 * them than cores only adds switching. A job that waits on a far server more than on CPU may set
 * more.
 */
export const DEFAULT_PARALLEL = Math.min(4, Math.max(2, availableParallelism()));
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_BATCH_ROWS = 10_000;
/** Files target: a file per 1M rows or 256 MiB, whichever first; Parquet row groups of 100k rows. */
export const DEFAULT_FILE_MAX_ROWS = 1_000_000;
export const DEFAULT_FILE_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_ROW_GROUP_ROWS = 100_000;

export const modeSchema = z.enum(['full-refresh', 'append']);
export type Mode = z.infer<typeof modeSchema>;

const positiveInt = z.number().int().positive();

export const policiesSchema = z
  .object({
    invalid_dates: z.enum(['null', 'reject']).optional(),
    nul_bytes: z.enum(['strip', 'replace', 'reject']).optional(),
    invalid_utf8: z.enum(['reject', 'replace', 'cp1252']).optional(),
    non_finite_floats: z.enum(['null', 'reject']).optional(),
    out_of_range: z.enum(['reject', 'null', 'clamp']).optional(),
  })
  .strict();

export const castRuleSchema = z
  .object({
    match: z
      .object({
        type: z.string().min(1).optional(),
        column: z.string().min(1).optional(),
        unsigned: z.boolean().optional(),
        precision: z.number().int().nonnegative().optional(),
        scale: z.number().int().nonnegative().optional(),
      })
      .strict()
      .refine((m) => Object.keys(m).length > 0, {
        message: 'a match needs at least one of type, column, unsigned, precision, scale',
      }),
    when: z.enum(['values-0-1', 'within-day']).optional(),
    to: z.string().min(1).optional(),
    transform: z.enum(TRANSFORMS).optional(),
    why: z.string().optional(),
  })
  .strict()
  .refine((r) => r.to !== undefined || r.transform !== undefined, {
    message: 'a cast rule needs to: and/or transform:',
  });

/** Settings a stream inherits from `defaults` and may override. */
const streamSettings = {
  /** `full-refresh` (staging table swapped in atomically) or `append` (rows added to the target). */
  mode: modeSchema.optional(),
  /** Rows per chunk (the unit of parallelism, retry and resume). */
  chunk_rows: positiveInt.optional(),
  /** Rows per batch between reader and writer. */
  batch_rows: positiveInt.optional(),
  /** Attempts per chunk before the stream fails (transient errors only). */
  max_attempts: positiveInt.optional(),
  /** Rejected rows a stream may set aside before it fails. */
  max_rejects: z.number().int().nonnegative().optional(),
  /** What to do with values the target cannot store (see docs/job-file.md). */
  policies: policiesSchema.optional(),
  /** Files target: `csv`, `jsonl` or `parquet` (default parquet). */
  format: z.enum(FILE_FORMATS).optional(),
  /** Files target: `none`, `gzip`, `zstd`, or `snappy` (Parquet only). Default zstd for Parquet, gzip for text. */
  compression: z.enum(COMPRESSIONS).optional(),
  /** Files target: rows per file, at most (per chunk and partition). */
  file_max_rows: positiveInt.optional(),
  /** Files target: bytes per file (as written), about. */
  file_max_bytes: positiveInt.optional(),
  /** Files target, Parquet: rows per row group, at most. */
  row_group_rows: positiveInt.optional(),
  /** Files target, CSV: dialect. */
  csv: z
    .object({
      delimiter: z.string().length(1).optional(),
      quote: z.string().length(1).optional(),
      null: z.string().optional(),
      header: z.boolean().optional(),
      /** Files source: the character that escapes a quote inside quotes (default: the quote, `""`). */
      escape: z.string().length(1).optional(),
    })
    .strict()
    .optional(),
};

export const defaultsSchema = z
  .object({
    ...streamSettings,
    /** Chunks in flight at once, over all streams. */
    parallel: positiveInt.optional(),
    /** Profile the source at plan time (counts for policies, data-dependent cast rules). */
    profile: z.boolean().optional(),
  })
  .strict();

export const streamSchema = z
  .object({
    ...streamSettings,
    /** Target table name (`schema.table`); default: the source name (schema adapted to the target). */
    target: z.string().min(1).optional(),
    /**
     * Only these columns, in this order (default: all); or, for a files source, a mapping of
     * column -> type (`amount: decimal(12,2)`) that overrides the types inferred by sampling.
     */
    columns: z
      .union([z.array(z.string().min(1)).nonempty(), z.record(z.string().min(1), z.string().min(1))], {
        error: 'a list of column names, or a mapping of column: type (a files source)',
      })
      .optional(),
    /** Files source: a glob of files under the source URL (`raw/orders/**\/*.csv.gz`). */
    files: z.string().min(1).optional(),
    /** Files source: text encoding of CSV/JSONL files (a byte order mark wins). Default utf-8. */
    encoding: z.enum(SOURCE_ENCODINGS).optional(),
    /** Files source: rows sampled to infer column types. */
    sample_rows: positiveInt.optional(),
    /** Files source: a JSON document column opened up into columns (and child tables). */
    flatten: z
      .object({
        column: z.string().min(1).optional(),
        max_depth: positiveInt.optional(),
        separator: z.string().min(1).optional(),
        arrays: z.enum(['json', 'child-table']).optional(),
      })
      .strict()
      .optional(),
    /** Chunk key for a table without a primary key: unique, not-null columns. */
    primary_key: z.array(z.string().min(1)).nonempty().optional(),
    /** Cast rules for this stream, tried before the job's `casts` and the connector's defaults. */
    casts: z.array(castRuleSchema).optional(),
    /** Files target: Hive-style folders by column value (`order_date`), or by a cut date (`created_at:month`). */
    partition_by: z
      .array(z.string().regex(/^[^:]+(:(year|month|day|hour))?$/, 'a column, or column:year|month|day|hour'))
      .nonempty()
      .optional(),
  })
  .strict();

export const jobSchema = z
  .object({
    /** Source connection URL. */
    source: z.string().min(1),
    /** Target connection URL. */
    target: z.string().min(1),
    /** Folder of the state store and run logs; default `.ferry/<job name>` beside the job file. */
    state: z.string().min(1).optional(),
    defaults: defaultsSchema.optional(),
    /** Cast rules tried before the source connector's defaults, in order; first match wins. */
    casts: z.array(castRuleSchema).optional(),
    streams: z.record(z.string().min(1), streamSchema.nullable()).refine((s) => Object.keys(s).length > 0, {
      message: 'at least one stream is required',
    }),
  })
  .strict();

export type JobFile = z.infer<typeof jobSchema>;
export type StreamConfig = z.infer<typeof streamSchema>;
