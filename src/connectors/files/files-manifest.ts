/**
 * Names in the lake and the manifest. Layout under the target root:
 *
 *   <stream folder>/[<key>=<value>/...]part-<chunk>-<run id>-<n>.<ext>   data files
 *   <stream folder>/_ferry_manifest.json                                  written last, the commit point
 *   _ferry/streams/<stream>/<run id>/<chunk>.json                          a chunk's marker: its files
 *   _ferry/streams/<stream>/<run id>/__published.json                      the stream is published
 *
 * Names that start with `_` are skipped by Hive, Spark, Athena and DuckDB's globs of data files.
 */
import type { FileFormat, FileLayout, Granularity, PartitionSpec } from '../../core/file-layout.js';
import type { TableRef } from '../../core/identifiers.js';
import type { LogicalType } from '../../core/logical-types.js';
import { textEncoder } from './files-codec.js';
import { fileExtension } from './files-compress.js';

export const MANIFEST = '_ferry_manifest.json';
export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

export interface ManifestFile {
  /** Relative to the stream folder. */
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
  chunk: string;
  run: string;
  /** The exact partition values of the file's rows (the folder name may fold '' into NULL). */
  partition?: Record<string, string | null>;
}

export interface ManifestColumn {
  name: string;
  /** The logical type, as `ferry plan` prints it (`decimal(12,2)`, `timestamptz`). */
  type: string;
  nullable: boolean;
  /** How the format stores it (`INT64 TIMESTAMP(MICROS, UTC)`, `text`). */
  stored: string;
  /** Left out of the files: its value is the partition folder. */
  inPath?: boolean;
}

export interface Manifest {
  ferry_manifest: 1;
  stream: string;
  run_id: string;
  mode: 'full-refresh' | 'append';
  written_at: string;
  format: FileFormat;
  compression: string;
  csv?: FileLayout['csv'];
  rows: number;
  bytes: number;
  columns: ManifestColumn[];
  primary_key: string[];
  partition_by: PartitionSpec[];
  files: ManifestFile[];
}

export interface ChunkMarkerBody {
  rows: number;
  rejects: number;
  files: ManifestFile[];
}

/** Percent-escapes what a path segment cannot hold, as Hive does (spaces and Unicode stay). */
export function escapeSegment(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f"#%'*/:=?\\{}[\]^<>|]/g, (c) => {
    const code = c.charCodeAt(0);
    return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
  });
}

export function unescapeSegment(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** The stream's folder: `public.orders`; a `target:` path is used as written (`/` nests). */
export function streamFolder(ref: TableRef): string {
  if (ref.schema !== null) return `${escapeSegment(ref.schema)}.${escapeSegment(ref.name)}`;
  return ref.name
    .split('/')
    .filter((p) => p !== '' && p !== '.' && p !== '..')
    .map(escapeSegment)
    .join('/');
}

export function markerPrefix(stream: string, runId?: string): string {
  return `_ferry/streams/${escapeSegment(stream)}/${runId ? `${escapeSegment(runId)}/` : ''}`;
}

export const PUBLISHED = '__published';

/** `2024-03-05 10:11:12+00` cut to a month: `2024-03`. BC dates keep their era. */
export function cutTemporal(s: string, g: Granularity): string {
  if (s === 'infinity' || s === '-infinity') return s;
  const bc = s.endsWith(' BC') ? ' BC' : '';
  const len = g === 'year' ? 4 : g === 'month' ? 7 : g === 'day' ? 10 : 13;
  const m = /^(\d+)(-\d{2}-\d{2})(?:[ T](\d{2}))?/.exec(s);
  if (!m) return s;
  // Years past 9999 have more digits: cut after the year, not at a fixed width.
  const extra = m[1].length - 4;
  let cut = s.slice(0, len + extra);
  if (g === 'hour') cut = `${s.slice(0, 10 + extra)}T${m[3] ?? '00'}`;
  return cut + bc;
}

/** What a partition column contributes: the exact value text (or null) for the manifest and the folder name. */
export interface PartitionValue {
  exact: string | null;
  folder: string;
}

export function partitionValuers(
  specs: readonly PartitionSpec[],
  columns: readonly { name: string; logical: LogicalType }[],
): ((row: readonly unknown[]) => PartitionValue)[] {
  return specs.map((p) => {
    const i = columns.findIndex((c) => c.name === p.column);
    const enc = textEncoder(columns[i].logical);
    return (row) => {
      const v = row[i];
      const key = escapeSegment(p.key);
      if (v === null || v === undefined) return { exact: null, folder: `${key}=${HIVE_NULL}` };
      const text = p.granularity ? cutTemporal(String(v), p.granularity) : enc(v);
      // Hive folds the empty string into the NULL partition; the manifest keeps it apart.
      return { exact: text, folder: `${key}=${text === '' ? HIVE_NULL : escapeSegment(text)}` };
    };
  });
}

export function dataFileName(chunk: string, runId: string, seq: number, layout: FileLayout): string {
  return `part-${chunk}-${runId}-${String(seq).padStart(4, '0')}${fileExtension(layout.format, layout.compression)}`;
}

/** Is `rel` (a key relative to the stream folder) a data file ferry writes for this layout? */
export function isDataFile(rel: string, layout: Pick<FileLayout, 'partitionBy'>): boolean {
  const parts = rel.split('/');
  if (parts.length !== layout.partitionBy.length + 1) return false;
  for (let i = 0; i < layout.partitionBy.length; i++) {
    if (!parts[i].startsWith(`${escapeSegment(layout.partitionBy[i].key)}=`)) return false;
  }
  return /^part-.+\.(parquet|csv|jsonl)(\.gz|\.zst)?$/.test(parts[parts.length - 1]);
}
