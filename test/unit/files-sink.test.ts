/**
 * The Parquet sink's memory bound: the Parquet files a process writes at once share a budget of rows
 * held in row groups, so more files open at once means smaller groups, never more memory.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { openSink } from '../../src/connectors/files/files-sink.js';
import { LocalStorage } from '../../src/connectors/files/files-storage.js';
import type { FileLayout } from '../../src/core/file-layout.js';

const layout: FileLayout = {
  format: 'parquet',
  compression: 'none',
  partitionBy: [],
  fileMaxRows: 10_000_000,
  fileMaxBytes: 1 << 30,
  rowGroupRows: 100_000,
  csv: { delimiter: ',', quote: '"', null: '', header: true },
};
const columns = [
  { name: 'id', logical: { kind: 'int32' as const }, nullable: false },
  { name: 'v', logical: { kind: 'int32' as const }, nullable: true },
];

async function writeFiles(dir: string, files: number, rows: number): Promise<number[][]> {
  const storage = new LocalStorage(dir);
  const sinks = await Promise.all(
    Array.from({ length: files }, async (_x, f) =>
      openSink(await storage.createWriter(`f${f}.parquet`), layout, columns, [0, 1]),
    ),
  );
  // Interleaved, as chunks in flight write: 1,000-row batches to each file in turn.
  for (let from = 0; from < rows; from += 1000) {
    const batch = Array.from({ length: 1000 }, (_x, i) => [from + i, i % 7 === 0 ? null : i]);
    for (const s of sinks) await s.write(batch, batch.length * 8);
  }
  for (const s of sinks) expect((await s.close()).rows).toBe(rows);
  return Array.from({ length: files }, (_x, f) => {
    const bytes = readFileSync(path.join(dir, `f${f}.parquet`));
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    return meta.row_groups.map((g) => Number(g.num_rows));
  });
}

describe('Parquet row groups in memory', () => {
  it('one file alone keeps row_group_rows', async () => {
    const groups = await writeFiles(mkdtempSync(path.join(tmpdir(), 'ferry-sink-')), 1, 250_000);
    expect(groups).toEqual([[100_000, 100_000, 50_000]]);
  });

  it('four files at once share 200,000 rows: groups of 50,000, every row written', async () => {
    const groups = await writeFiles(mkdtempSync(path.join(tmpdir(), 'ferry-sink-')), 4, 120_000);
    for (const g of groups) {
      expect(g.reduce((a, b) => a + b, 0)).toBe(120_000);
      expect(Math.max(...g)).toBeLessThanOrEqual(50_000);
    }
  });
});
