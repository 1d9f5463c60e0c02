import type { TransformName } from '../core/cast-rules.js';
import type {
  ColumnInfo,
  IndexInfo,
  KeyRange,
  PageRange,
  ProbeCheck,
  SourcePart,
  TargetColumn,
} from '../core/connector.js';
import type { FileLayout } from '../core/file-layout.js';
import type { TableRef } from '../core/identifiers.js';
import type { Policies } from '../core/policies.js';

export type Mode = 'full-refresh' | 'append';

export interface ChunkPlan {
  /** Stable id, `c00001`...; the same id means the same key range for the whole run. */
  id: string;
  /** `(lo, hi]` by the chunk key, or null for a whole-table chunk. */
  range: KeyRange | null;
  /** The source part this chunk reads (a file), instead of a key range. */
  part?: SourcePart;
  /** The pages this chunk reads (a table with a scattered key), instead of a key range. */
  pages?: PageRange;
}

export interface ColumnPlan {
  source: ColumnInfo;
  target: TargetColumn;
  /** Why a value may change on the way (shown by `ferry plan`). */
  lossy?: string;
  /** The value transform of the cast rule that matched. */
  transform?: TransformName;
  /** The cast rule that decided the target type (formatted), when one matched. */
  rule?: string;
  /** Counts found by profiling the source, by check (`invalid-dates: 12`). */
  found?: Partial<Record<ProbeCheck, number>>;
  /** Target name differs from the source name (too long, or colliding); why. */
  renamed?: string;
}

export interface StreamPlan {
  /** Stream id: the source table's display name (`public.orders`, `public."Order Items"`). */
  name: string;
  source: TableRef;
  target: TableRef;
  mode: Mode;
  columns: ColumnPlan[];
  /** Columns that chunk ranges are taken over; [] means one whole-table chunk. */
  chunkKey: string[];
  /** Where the chunk key came from. */
  chunkKeySource: 'primary-key' | 'configured' | 'none';
  /** Target primary key. */
  primaryKey: string[];
  /** Secondary indexes built after the load. */
  indexes: IndexInfo[];
  estimatedRows: number;
  chunks: ChunkPlan[];
  /** Raw format copied byte for byte (same types on both sides, no transform), or null. */
  passThrough: string | null;
  chunkRows: number;
  /** Why the chunks are cut as they are, when not by chunk_rows as configured. */
  chunkNote?: string;
  /** Chunks by pages: the source's page version when planned (see Introspector.pageVersion). */
  pageVersion?: string;
  batchRows: number;
  maxAttempts: number;
  maxRejects: number;
  policies: Policies;
  warnings: string[];
  /** How the source's columns were found (a files source: sampled, or from a manifest). */
  sourceNote?: string;
  /** The stream this one is a child table of (rows from its flattened arrays). */
  parent?: string;
  /** How the stream is laid out as files (a files target), or null. */
  layout: FileLayout | null;
}

export interface Plan {
  jobHash: string;
  /** Redacted URLs. */
  source: string;
  target: string;
  sourceDialect: string;
  targetDialect: string;
  /** Chunks in flight at once (after connector limits). */
  parallel: number;
  streams: StreamPlan[];
  /** Cast rules in effect, in order (the user's, then the source connector's). */
  castRules: string[];
  createdAt: string;
}
