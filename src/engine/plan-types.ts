import type { ColumnInfo, IndexInfo, KeyRange, TargetColumn } from '../core/connector.js';
import type { TableRef } from '../core/identifiers.js';

export type Mode = 'full-refresh' | 'append';

export interface ChunkPlan {
  /** Stable id, `c00001`...; the same id means the same key range for the whole run. */
  id: string;
  /** `(lo, hi]` by the chunk key, or null for a whole-table chunk. */
  range: KeyRange | null;
}

export interface ColumnPlan {
  source: ColumnInfo;
  target: TargetColumn;
  /** Why a value may change on the way (shown by `ferry plan`). */
  lossy?: string;
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
  batchRows: number;
  maxAttempts: number;
  warnings: string[];
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
  createdAt: string;
}
