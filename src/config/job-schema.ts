import { z } from 'zod';

/** Defaults: documented in docs/job-file.md; keep both in step. */
/**
 * 500,000 rows: a chunk read by a key range visits every heap page that holds one of its keys, and
 * when key order is not physical order (random uuids) that is most pages of the table, once per
 * chunk. Measured on the 5.18M-row data_fact table PG->PG: 100,000 rows a chunk 8.6 s, 250,000
 * 7.9 s, 500,000 6.8 s, 1,000,000 6.6 s (too few chunks to balance). A chunk is still under a
 * second of work, so a crash costs little.
 */
export const DEFAULT_CHUNK_ROWS = 500_000;
export const DEFAULT_PARALLEL = 4;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_BATCH_ROWS = 10_000;

export const modeSchema = z.enum(['full-refresh', 'append']);
export type Mode = z.infer<typeof modeSchema>;

const positiveInt = z.number().int().positive();

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
};

export const defaultsSchema = z
  .object({
    ...streamSettings,
    /** Chunks in flight at once, over all streams. */
    parallel: positiveInt.optional(),
  })
  .strict();

export const streamSchema = z
  .object({
    ...streamSettings,
    /** Target table name (`schema.table`); default: the source name (schema adapted to the target). */
    target: z.string().min(1).optional(),
    /** Only these columns, in this order (default: all). */
    columns: z.array(z.string().min(1)).nonempty().optional(),
    /** Chunk key for a table without a primary key: unique, not-null columns. */
    primary_key: z.array(z.string().min(1)).nonempty().optional(),
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
    streams: z.record(z.string().min(1), streamSchema.nullable()).refine((s) => Object.keys(s).length > 0, {
      message: 'at least one stream is required',
    }),
  })
  .strict();

export type JobFile = z.infer<typeof jobSchema>;
export type StreamConfig = z.infer<typeof streamSchema>;
