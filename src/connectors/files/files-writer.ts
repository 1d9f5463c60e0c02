/**
 * The files target's writer. Exactly once, the lake way:
 * - a chunk's files have deterministic names (`part-<chunk>-<run>-<n>`), so a retry or a resume of
 *   the same run overwrites them and never adds a copy;
 * - a chunk counts as written once its marker object (listing its files, rows and checksums) exists;
 * - the stream's manifest, written last, lists exactly the files of the committed chunks; then (full
 *   refresh) every other data file in the stream's folder is removed: files of earlier runs, and
 *   files an attempt wrote before it died.
 * Readers that go by the manifest see one whole run or the one before, never a mix.
 */

import type { ChunkMarker, ChunkWrite, RowBatch, TargetTable, TypeMapping, Writer } from '../../core/connector.js';
import { TerminalError } from '../../core/errors.js';
import type { FileLayout } from '../../core/file-layout.js';
import type { TableRef } from '../../core/identifiers.js';
import { formatLogical, type LogicalType } from '../../core/logical-types.js';
import {
  type ChunkMarkerBody,
  dataFileName,
  isDataFile,
  MANIFEST,
  type Manifest,
  type ManifestFile,
  markerPrefix,
  PUBLISHED,
  partitionValuers,
  streamFolder,
} from './files-manifest.js';
import { ParquetValueError, storedAs } from './files-parquet.js';
import { openSink, type RowSink } from './files-sink.js';
import type { Storage } from './files-storage.js';

/** Open files per chunk at most (a chunk that spans more partitions closes the least recently used). */
const MAX_OPEN_FILES = 32;
/** Rows held in memory over all open Parquet files of a chunk before the biggest is encoded early. */
const CHUNK_BUFFER_BYTES = 128 * 1024 * 1024;

export async function readJson<T>(storage: Storage, key: string): Promise<T | null> {
  const b = await storage.getBytes(key);
  if (!b) return null;
  try {
    return JSON.parse(b.toString('utf8')) as T;
  } catch (err) {
    throw new TerminalError(`${storage.location}/${key} is not valid JSON: ${(err as Error).message}`, {
      hint: 'the object was damaged or written by something else; remove it and rerun',
    });
  }
}

function layoutOf(x: { layout?: FileLayout | null }, where: string): FileLayout {
  if (!x.layout) throw new TerminalError(`${where}: no file layout in the plan (a files target needs one)`);
  return x.layout;
}

/** Columns that go into the files: all but the ones whose value is the partition folder. */
function dataColumns(columns: readonly { name: string }[], layout: FileLayout): number[] {
  const inPath = new Set(layout.partitionBy.filter((p) => !p.granularity).map((p) => p.column));
  return columns.map((_c, i) => i).filter((i) => !inPath.has(columns[i].name));
}

export class FilesWriter implements Writer {
  constructor(private readonly storage: Storage) {}

  mapType(column: { logical: LogicalType }): TypeMapping {
    // A lake keeps the logical type itself; how each format stores it is in the manifest.
    return { nativeType: formatLogical(column.logical) };
  }

  async ensureChunkLedger(): Promise<void> {}

  async committedChunks(runId: string, stream: string): Promise<Map<string, ChunkMarker>> {
    const out = new Map<string, ChunkMarker>();
    for (const [id, body] of await this.markers(runId, stream)) out.set(id, { rows: body.rows, rejects: body.rejects });
    return out;
  }

  private async markers(runId: string, stream: string): Promise<Map<string, ChunkMarkerBody>> {
    const prefix = markerPrefix(stream, runId);
    const out = new Map<string, ChunkMarkerBody>();
    for await (const o of this.storage.list(prefix)) {
      if (o.temp) continue;
      const name = o.key.slice(prefix.length);
      if (!name.endsWith('.json') || name.includes('/') || name.startsWith(PUBLISHED)) continue;
      const body = await readJson<ChunkMarkerBody>(this.storage, o.key);
      if (body) out.set(name.slice(0, -5), body);
    }
    return out;
  }

  async forgetRuns(stream: string, keepRunId: string): Promise<void> {
    const prefix = markerPrefix(stream);
    const keep = markerPrefix(stream, keepRunId);
    const old: string[] = [];
    for await (const o of this.storage.list(prefix)) if (!o.key.startsWith(keep)) old.push(o.key);
    if (old.length > 0) await this.storage.delete(old);
  }

  async tableExists(ref: TableRef): Promise<boolean> {
    return (await this.storage.getBytes(`${streamFolder(ref)}/${MANIFEST}`)) !== null;
  }

  async existingColumns(ref: TableRef): Promise<string[]> {
    const m = await readJson<Manifest>(this.storage, `${streamFolder(ref)}/${MANIFEST}`);
    return m ? m.columns.map((c) => c.name) : [];
  }

  async createTable(): Promise<void> {
    // Folders appear with their files; the manifest is written when the stream is published.
  }

  async dropTable(): Promise<void> {
    // Nothing to drop: a files target has no staging table (the next publish replaces the files).
  }

  async writeChunk(w: ChunkWrite, batches: AsyncIterable<RowBatch>, signal?: AbortSignal): Promise<number> {
    const layout = layoutOf(w, `stream ${w.stream}`);
    const folder = streamFolder(w.table);
    const index = dataColumns(w.columns, layout);
    const fileColumns = index.map((i) => w.columns[i]);
    const parts = partitionValuers(layout.partitionBy, w.columns);
    interface Open {
      sink: RowSink;
      path: string;
      partition?: Record<string, string | null>;
      used: number;
    }
    const open = new Map<string, Open>();
    const seqs = new Map<string, number>();
    const files: ManifestFile[] = [];
    let tick = 0;
    let total = 0;

    const close = async (id: string) => {
      const o = open.get(id)!;
      open.delete(id);
      const r = await o.sink.close();
      const f: ManifestFile = {
        path: o.path,
        rows: r.rows,
        bytes: r.bytes,
        sha256: r.sha256,
        chunk: w.chunkId,
        run: w.runId,
      };
      if (o.partition) f.partition = o.partition;
      files.push(f);
    };
    const sinkFor = async (id: string, dir: string, partition?: Record<string, string | null>): Promise<Open> => {
      let o = open.get(id);
      if (o) {
        o.used = ++tick;
        return o;
      }
      if (open.size >= MAX_OPEN_FILES) {
        const lru = [...open].sort((a, b) => a[1].used - b[1].used)[0][0];
        await close(lru);
      }
      const seq = seqs.get(dir) ?? 0;
      seqs.set(dir, seq + 1);
      const name = dataFileName(w.chunkId, w.runId, seq, layout);
      const path = dir ? `${dir}/${name}` : name;
      const out = await this.storage.createWriter(`${folder}/${path}`);
      o = { sink: await openSink(out, layout, fileColumns, index), path, partition, used: ++tick };
      open.set(id, o);
      return o;
    };
    /**
     * Writes rows into a partition's file, rolling to a new file at the row and byte bounds. `id` is
     * the folder plus the exact values: NULL and '' share the folder `__HIVE_DEFAULT_PARTITION__`
     * but not a file, so the manifest can record each file's exact values.
     */
    const put = async (
      id: string,
      dir: string,
      rows: unknown[][],
      bytes: number,
      partition?: Record<string, string | null>,
    ) => {
      let from = 0;
      while (from < rows.length) {
        const o = await sinkFor(id, dir, partition);
        const take = Math.min(layout.fileMaxRows - o.sink.rows, rows.length - from);
        const slice = from === 0 && take === rows.length ? rows : rows.slice(from, from + take);
        await o.sink.write(slice, (bytes * take) / rows.length);
        from += take;
        if (o.sink.rows >= layout.fileMaxRows || o.sink.bytes >= layout.fileMaxBytes) await close(id);
      }
    };

    try {
      for await (const b of batches) {
        if (signal?.aborted) throw new Error('aborted');
        total += b.rows.length;
        if (parts.length === 0) {
          await put('', '', b.rows, b.bytes);
        } else {
          const groups = new Map<
            string,
            { dir: string; rows: unknown[][]; partition: Record<string, string | null> }
          >();
          for (const row of b.rows) {
            let dir = '';
            let id = '';
            const values = parts.map((f) => f(row));
            for (const v of values) {
              dir = dir ? `${dir}/${v.folder}` : v.folder;
              id += `${v.exact === null ? '\u0001' : `${v.exact.length}:${v.exact}`}\u0000`;
            }
            id = `${dir}\u0000${id}`;
            let g = groups.get(id);
            if (!g) {
              const partition: Record<string, string | null> = {};
              layout.partitionBy.forEach((p, i) => {
                partition[p.key] = values[i].exact;
              });
              g = { dir, rows: [], partition };
              groups.set(id, g);
            }
            g.rows.push(row);
          }
          for (const [id, g] of groups)
            await put(id, g.dir, g.rows, (b.bytes * g.rows.length) / b.rows.length, g.partition);
          // Rows gathered for Parquet row groups across many partitions: encode the biggest early.
          let held = 0;
          for (const o of open.values()) held += o.sink.buffered;
          while (held > CHUNK_BUFFER_BYTES) {
            const big = [...open.values()].sort((a, c) => c.sink.buffered - a.sink.buffered)[0];
            held -= big.sink.buffered;
            await big.sink.flushBuffered();
          }
        }
      }
      for (const dir of [...open.keys()]) await close(dir);
    } catch (err) {
      await Promise.all([...open.values()].map((o) => o.sink.abort().catch(() => {})));
      if (err instanceof ParquetValueError) {
        throw new TerminalError(err.message, {
          stream: w.stream,
          chunk: w.chunkId,
          column: err.column,
          hint: err.hint,
        });
      }
      throw err;
    }
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    const marker: ChunkMarkerBody = { rows: total, rejects: w.rejects?.() ?? 0, files };
    await this.storage.putBytes(
      `${markerPrefix(w.stream, w.runId)}${w.chunkId}.json`,
      Buffer.from(JSON.stringify(marker)),
    );
    return total;
  }

  /** Full refresh: the manifest lists this run's files; other data files in the folder go. */
  async swapIn(_staging: TableRef, final: TargetTable, runId: string, stream: string): Promise<void> {
    const layout = layoutOf(final, `stream ${stream}`);
    const folder = streamFolder(final.ref);
    const previous = await readJson<Manifest>(this.storage, `${folder}/${MANIFEST}`);
    const files = [...(await this.markers(runId, stream)).values()].flatMap((m) => m.files);
    await this.publish(final, layout, runId, stream, 'full-refresh', files);
    const keep = new Set(files.map((f) => f.path));
    const before = new Set(previous?.files.map((f) => f.path) ?? []);
    const stale: string[] = [];
    for await (const o of this.storage.list(`${folder}/`)) {
      const rel = o.key.slice(folder.length + 1);
      if (keep.has(rel) || rel === MANIFEST) continue;
      if (o.temp || before.has(rel) || isDataFile(rel, layout)) stale.push(o.key);
    }
    if (stale.length > 0) await this.storage.delete(stale);
    await this.markPublished(runId, stream);
  }

  /** Append: the manifest lists the files it listed before plus this run's. */
  async finishAppend(final: TargetTable, runId: string, stream: string): Promise<void> {
    const layout = layoutOf(final, `stream ${stream}`);
    const previous = await readJson<Manifest>(this.storage, `${streamFolder(final.ref)}/${MANIFEST}`);
    const mine = [...(await this.markers(runId, stream)).values()].flatMap((m) => m.files);
    const earlier = (previous?.files ?? []).filter((f) => f.run !== runId);
    await this.publish(final, layout, runId, stream, 'append', [...earlier, ...mine]);
    await this.markPublished(runId, stream);
  }

  private async publish(
    final: TargetTable,
    layout: FileLayout,
    runId: string,
    stream: string,
    mode: Manifest['mode'],
    files: ManifestFile[],
  ): Promise<void> {
    const inPath = new Set(layout.partitionBy.filter((p) => !p.granularity).map((p) => p.column));
    const manifest: Manifest = {
      ferry_manifest: 1,
      stream,
      run_id: runId,
      mode,
      written_at: new Date().toISOString(),
      format: layout.format,
      compression: layout.compression,
      ...(layout.format === 'csv' ? { csv: layout.csv } : {}),
      rows: files.reduce((a, f) => a + f.rows, 0),
      bytes: files.reduce((a, f) => a + f.bytes, 0),
      columns: final.columns.map((c) => ({
        name: c.name,
        type: formatLogical(c.logical),
        nullable: c.nullable,
        stored: layout.format === 'parquet' ? storedAs(c) : layout.format,
        ...(inPath.has(c.name) ? { inPath: true } : {}),
      })),
      primary_key: final.primaryKey,
      partition_by: layout.partitionBy,
      files,
    };
    await this.storage.putBytes(
      `${streamFolder(final.ref)}/${MANIFEST}`,
      Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`),
    );
  }

  private async markPublished(runId: string, stream: string): Promise<void> {
    await this.storage.putBytes(`${markerPrefix(stream, runId)}${PUBLISHED}.json`, Buffer.from('{}'));
  }

  async streamFinished(runId: string, stream: string): Promise<boolean> {
    return (await this.storage.getBytes(`${markerPrefix(stream, runId)}${PUBLISHED}.json`)) !== null;
  }
}
