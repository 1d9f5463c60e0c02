/**
 * The connector contract (the engine's only view of a database). A connector is an introspector, a
 * reader, a writer and a set of capability flags; the engine acts on the flags and never on a
 * dialect name. Connectors never manage parallelism or retries: the engine does.
 */
import type { Readable } from 'node:stream';
import type { CastRule } from './cast-rules.js';
import type { Compression, CsvSourceOptions, FileFormat, FileLayout, FlattenOptions } from './file-layout.js';
import type { TableRef } from './identifiers.js';
import type { LogicalType } from './logical-types.js';
import type { ValueSupport } from './policies.js';

export interface ColumnInfo {
  name: string;
  /** The type as the database spells it (`numeric(12,2)`, `timestamp with time zone`, `INTEGER`). */
  nativeType: string;
  logical: LogicalType;
  nullable: boolean;
  /** The default expression in the source dialect, or null. Not carried across dialects. */
  default: string | null;
  /** Set when the native -> logical mapping loses something (e.g. an enum read as text). */
  note?: string;
  /**
   * Values arrive as text in the logical type's usual text form (a CSV field): the target
   * database casts them, and a value it refuses sets its row aside as a reject.
   */
  text?: boolean;
}

export interface IndexInfo {
  name: string;
  /** Plain column list, or null for an expression/partial index (then only `definition` tells). */
  columns: string[] | null;
  unique: boolean;
  /** The dialect's own CREATE INDEX statement, when it has one. */
  definition: string | null;
  /** The dialect `definition` is written in. */
  dialect: string;
}

export interface TableInfo {
  ref: TableRef;
  columns: ColumnInfo[];
  /** Primary key columns in key order; [] when the table has none. */
  primaryKey: string[];
  /** Secondary indexes (the primary key's own index is not listed). */
  indexes: IndexInfo[];
  /** A cheap estimate (statistics), not an exact count. */
  estimatedRows: number;
  /** Tables read from the same source rows (a files source's child tables of flattened arrays). */
  children?: TableRef[];
  /** How the columns were found, for `ferry plan` (`types inferred from 1,000 sampled rows`). */
  note?: string;
}

/**
 * A piece of a source that is read whole as one chunk: a file of a lake. Its size and version
 * tag as listed at plan time; a file that differs when read (or on resume) has changed.
 */
export interface SourcePart {
  /** The object's key under the source root (`raw/orders/2024-01.csv.gz`). */
  path: string;
  size: number;
  /** S3 ETag, a file's modification time, or a manifest's sha256. */
  etag: string;
}

/** A stream of a source whose tables the job itself defines (a files source: files matched by a glob). */
export interface SourceStreamSpec {
  ref: TableRef;
  /** Glob of keys under the source root; null: the ferry manifest of the stream's folder, else every data file in it. */
  files: string | null;
  /** null: from each file's extension. */
  format: FileFormat | null;
  /** null: from each file's extension (`.gz`, `.zst`). */
  compression: Compression | null;
  csv: CsvSourceOptions;
  /** Text encoding of CSV and JSONL files (a byte order mark overrides it). */
  encoding: string;
  flatten: FlattenOptions | null;
  /** Explicit column types (`amount: decimal(12,2)`); the rest are inferred by sampling. */
  columnTypes: Record<string, string>;
  /** The stream's key (also the parent key of child tables). */
  primaryKey: string[] | null;
  /** Rows sampled to infer types. */
  sampleRows: number;
}

/** The logical values of the key columns of one row. */
export type KeyTuple = unknown[];

/**
 * A range of a table's pages (blocks) `[from, to)` in its physical order; `to` null is open, so rows
 * added past the last page when the range was planned are still read. PostgreSQL reads it by `ctid`.
 */
export interface PageRange {
  from: number;
  to: number | null;
}

/** A key range `(lo, hi]`; a null bound is open (minus or plus infinity). */
export interface KeyRange {
  lo: KeyTuple | null;
  hi: KeyTuple | null;
}

export interface ReadRequest {
  table: TableRef;
  /** The columns to read, in this order; their logical types decide how values are decoded. */
  columns: readonly ColumnInfo[];
  /** Key columns for the range predicate; [] reads the whole table. */
  key: readonly ColumnInfo[];
  range: KeyRange | null;
  /** Upper bound of rows per batch. Default 10,000. */
  batchRows?: number;
  /** Upper bound of (approximate) bytes per batch. Default 8 MiB. */
  batchBytes?: number;
  /** The part to read (a file of a files source), instead of a key range. */
  part?: SourcePart;
  /** The pages to read (see Introspector.pageChunks), instead of a key range. */
  pages?: PageRange;
  /**
   * The target's native types of `columns`, for a raw format made for another dialect (see
   * Reader.rawFor): the bytes must be those of the target's own types.
   */
  targetTypes?: readonly string[];
}

/** The one currency between readers and writers: rows of logical values, bounded in rows and bytes. */
export interface RowBatch {
  rows: unknown[][];
  /** Approximate size of the batch, for memory accounting. */
  bytes: number;
}

export interface TargetColumn {
  name: string;
  nativeType: string;
  logical: LogicalType;
  nullable: boolean;
  /** Values arrive as text for the database to cast (see ColumnInfo.text). */
  fromText?: boolean;
}

export interface TargetTable {
  ref: TableRef;
  columns: TargetColumn[];
  primaryKey: string[];
  indexes: IndexInfo[];
  /** The file layout, for a files target (null for a database). */
  layout?: FileLayout | null;
}

/** What one chunk write needs to know: where to load, and the marker to record with it. */
export interface ChunkWrite {
  runId: string;
  stream: string;
  chunkId: string;
  /** The table the rows go into (a staging table for full refresh). */
  table: TableRef;
  columns: readonly TargetColumn[];
  /** Rows of this chunk set aside as rejects, read when the marker is written (before commit). */
  rejects?: () => number;
  /** The file layout, for a files target. */
  layout?: FileLayout | null;
  /** The stream's chunk key columns (a files target records each file's key range). */
  key?: readonly string[];
  /**
   * Set when columns arrive as text for the database to cast: the writer loads batch by batch,
   * and a row the database refuses (a value that does not cast, is too long, is NULL in a NOT
   * NULL column) is handed here with the column and the database's reason instead of failing the
   * chunk. `row` is the row as given to the writer. May throw (the max_rejects budget) to fail it.
   */
  onReject?: (row: unknown[], column: string | null, reason: string) => void;
}

export interface Capabilities {
  /** How the writer loads rows. */
  bulkLoad: 'copy' | 'load-data' | 'insert' | 'files';
  /** Chunks that may be read at once (each on its own connection). */
  maxReaders: number;
  /** Chunks that may be written at once (each in its own transaction). */
  maxWriters: number;
  /** Whether CREATE/ALTER/DROP TABLE can be rolled back (lets the final swap be one transaction). */
  transactionalDdl: boolean;
  /** The schema a table lands in when the source has none, or null if the dialect has no schemas. */
  defaultSchema: string | null;
  /** How the dialect folds unquoted identifiers (`target: Orders` -> `orders` on PostgreSQL). */
  unquotedCase: 'lower' | 'preserve';
  /** Raw byte formats the reader can produce and the writer can consume unchanged (e.g. `postgres-binary`). */
  passThrough: readonly string[];
  /** Values this dialect can hold that others cannot (policies apply where a target cannot). */
  values: ValueSupport;
  /** Longest identifier in bytes (PostgreSQL 63, MySQL 64); longer names are renamed by the plan. */
  maxIdentifierBytes: number;
  /** Set when the limit counts characters, not bytes (MySQL: 64 characters, any of them multi-byte). */
  identifierLimitInCharacters?: boolean;
  /** Whether column names differing only in case collide (MySQL). */
  caseInsensitiveColumns: boolean;
  /**
   * Whether full refresh loads a staging table that `swapIn` puts in place of the target. A files
   * target has none: it writes each chunk's files under the stream's own folder, and `swapIn`
   * publishes them (the manifest) and removes what the run did not write.
   */
  stagingTable: boolean;
  /**
   * The staging table gets its primary key when created, not after the load: the table is stored in
   * key order (InnoDB's clustered index), so adding the key afterwards rebuilds the whole table (a
   * 5.2M-row MariaDB copy: 9-15 s of a 40 s run). Elsewhere the key is built after, once, by sort.
   * Only when the source reads a chunk in key order (`keyOrderReads`): rows in heap order went into
   * the clustered index at random, and PostgreSQL -> MariaDB took 154 s instead of about 40 s.
   */
  keyWhileLoading: boolean;
  /** A chunk's rows arrive in key order (an InnoDB range read walks the clustered index). */
  keyOrderReads: boolean;
  /** Whether the reader can read a key range (else verify compares whole streams). */
  rangeReads: boolean;
  /** The target names a stream as the source does, schema and all (a lake folder `public.orders`). */
  namesFollowSource?: boolean;
  /**
   * The writer hands text to the database to cast and reports each row it refuses (`onReject`):
   * PostgreSQL and MySQL. Elsewhere ferry casts a files source's text itself, as verify does.
   */
  castsText?: boolean;
}

/** Data checks a source can count at plan time (`ferry plan` shows the counts). */
export type ProbeCheck = 'values-0-1' | 'within-day' | 'invalid-dates' | 'nul-bytes' | 'non-finite' | 'invalid-utf8';

export interface Probe {
  column: ColumnInfo;
  check: ProbeCheck;
}

/** A committed chunk as its marker in the target records it. */
export interface ChunkMarker {
  rows: number;
  rejects: number;
}

export interface TypeMapping {
  nativeType: string;
  /** Set when the value may change on the way (shown by `ferry plan`). */
  lossy?: string;
  /**
   * The logical type the native type holds, when narrower than the column's (numeric without
   * precision -> MySQL decimal(65,30)): the value guards (out_of_range) and verify judge by it.
   */
  logical?: LogicalType;
}

export interface Introspector {
  /** Checks that the connection works (and authenticates). Throws ConnectionError if not. */
  ping(): Promise<void>;
  /** Every user table (no system or ferry tables). */
  listTables(): Promise<TableRef[]>;
  describe(ref: TableRef): Promise<TableInfo>;
  /**
   * Boundaries that cut the table into chunks of about `chunkRows` rows by key order: the returned
   * tuples b1 < b2 < ... give chunks (-inf,b1], (b1,b2], ..., (bn,+inf).
   */
  chunkBoundaries(ref: TableRef, key: readonly ColumnInfo[], chunkRows: number): Promise<KeyTuple[]>;
  /**
   * How closely the table's physical order follows the key: 1 (or -1) stored in key order, 0
   * scattered (random uuids); null when unknown. A key range over a scattered key visits most of
   * the table's pages, so each chunk then costs about a pass over the whole table.
   */
  keyLocality?(ref: TableRef, key: readonly ColumnInfo[]): Promise<number | null>;
  /**
   * Chunks by physical position, for a table whose key is scattered (keyLocality near 0): ranges of
   * about `chunkRows` rows' worth of pages, which read each page once however many chunks there are,
   * where key ranges would each read most pages. Every chunk of a run reads one snapshot of the
   * source, so a row is in exactly one range. `version` changes when rows may have moved between
   * pages since (see pageVersion). Null when the server cannot read page ranges directly.
   */
  pageChunks?(ref: TableRef, chunkRows: number): Promise<{ pages: PageRange[]; version: string } | null>;
  /**
   * Changes whenever a row of the table may have moved to another page (inserts, updates, deletes,
   * a rewrite). A resumed run compares it with the plan's: page ranges read in an earlier process
   * and in this one hold each row exactly once only if it has not changed.
   */
  pageVersion?(ref: TableRef): Promise<string>;
  /** Exact count of rows in a range (or the whole table). */
  count(ref: TableRef, key: readonly ColumnInfo[], range: KeyRange | null): Promise<number>;
  /**
   * Counts the values that fail each check, in one pass over the table. An entry is null when the
   * connector has no way to check it (or the check cannot fail in this dialect).
   */
  profile?(ref: TableRef, probes: readonly Probe[]): Promise<(number | null)[]>;
  /**
   * Problems with a stored stream that reading its rows would not show (files not listed in a
   * lake manifest). Verify reports them.
   */
  audit?(ref: TableRef): Promise<string[]>;
  /** The parts a stream is read in, one chunk each (a files source: its files), instead of key ranges. */
  parts?(ref: TableRef): Promise<SourcePart[]>;
}

export interface Reader {
  read(req: ReadRequest, signal?: AbortSignal): AsyncIterable<RowBatch>;
  /** A byte stream in a pass-through format (only for formats in capabilities.passThrough). */
  readRaw?(req: ReadRequest, format: string): Promise<Readable>;
  /**
   * Whether the reader can produce another dialect's raw format (in that target's
   * capabilities.passThrough) for these columns going into these native target types. Such a
   * stream ends with `RawUnfit` at a value it cannot carry exactly as the row path would; the
   * engine then copies that chunk by rows.
   */
  rawFor?(format: string, columns: readonly ColumnInfo[], targetTypes: readonly string[]): boolean;
}

export interface Writer {
  /**
   * Maps a source column to this dialect's type; same-dialect sources keep their native type.
   * `key` says the column is in a key or index (MySQL needs a bounded length there); `keyParts` is
   * the column count of the widest such key (the parts share MySQL's 3072-byte key limit).
   */
  mapType(
    column: ColumnInfo,
    sourceDialect: string,
    context?: { key: boolean; keyParts?: number; keyReserve?: number },
  ): TypeMapping;
  /** Creates the `_ferry_chunks` bookkeeping table if it is missing. */
  ensureChunkLedger(): Promise<void>;
  /** Chunk ids committed for a run and stream, with their row and reject counts. */
  committedChunks(runId: string, stream: string): Promise<Map<string, ChunkMarker>>;
  /** Removes the chunk markers of a stream's earlier runs (everything but `keepRunId`). */
  forgetRuns(stream: string, keepRunId: string): Promise<void>;
  tableExists(ref: TableRef): Promise<boolean>;
  /** Existing columns of a target table (for append compatibility checks). */
  existingColumns(ref: TableRef): Promise<string[]>;
  /**
   * Creates a table (and its schema), without secondary indexes. With `primaryKey: false` the key
   * is left to `swapIn` (fast bulk loads); a connector that cannot add a key later creates it anyway.
   */
  createTable(table: TargetTable, options: { primaryKey: boolean; ifNotExists: boolean }): Promise<void>;
  dropTable(ref: TableRef): Promise<void>;
  /** Writes one chunk and its marker in ONE transaction. Resolves with the row count once committed. */
  writeChunk(w: ChunkWrite, batches: AsyncIterable<RowBatch>, signal?: AbortSignal): Promise<number>;
  /**
   * Whether this server takes the pass-through format now (a MySQL server with local_infile off
   * cannot LOAD DATA); when not, chunks go the row path. Absent: always.
   */
  acceptsRaw?(format: string): Promise<boolean>;
  /** Same, from a raw pass-through byte stream. */
  writeChunkRaw?(w: ChunkWrite, format: string, data: Readable): Promise<number>;
  /**
   * Full refresh, final step: builds the primary key and indexes on `staging`, then in one
   * transaction replaces `final.ref` with it and records the stream's swap marker. Idempotent.
   */
  swapIn(staging: TableRef, final: TargetTable, runId: string, stream: string): Promise<void>;
  /** Append, final step: builds indexes that are missing and records the stream's done marker. */
  finishAppend(final: TargetTable, runId: string, stream: string, createdByRun: boolean): Promise<void>;
  /** Whether the stream's final marker (swap or done) exists for the run. */
  streamFinished(runId: string, stream: string): Promise<boolean>;
}

export interface Connector {
  /** `postgres`, `sqlite`, ... Used for display and to recognise same-dialect copies. */
  readonly dialect: string;
  /** Cast rules applied to this connector's columns as a source, after the user's rules. */
  readonly castRules: readonly CastRule[];
  readonly capabilities: Capabilities;
  readonly introspector: Introspector;
  readonly reader: Reader;
  readonly writer: Writer;
  /**
   * A source whose tables the job defines (a files source): called with the job's streams before
   * anything else; `listTables` then returns them (and `describe` samples them).
   */
  declareStreams?(streams: readonly SourceStreamSpec[]): void;
  close(): Promise<void>;
}

export interface ConnectorOptions {
  /** Upper bound of connections this connector may open. */
  maxConnections: number;
  /** Folder that relative file paths in the URL are resolved from (the job file's folder). */
  baseDir: string;
  /** Application name shown by the database (`pg_stat_activity`). */
  applicationName?: string;
}
