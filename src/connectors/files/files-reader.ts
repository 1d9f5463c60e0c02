/**
 * Reads a stream of a lake back, by its manifest: every listed file, checked against the size and
 * sha256 the manifest recorded, decoded by the column types the manifest records. `ferry verify`
 * reads a files target through it; a file that differs from the manifest is an error naming it.
 */
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { parseLogical } from '../../core/cast-rules.js';
import type { ColumnInfo, Reader, ReadRequest, RowBatch, TableInfo } from '../../core/connector.js';
import { TerminalError } from '../../core/errors.js';
import type { Compression } from '../../core/file-layout.js';
import { displayTable, type TableRef } from '../../core/identifiers.js';
import type { LogicalType } from '../../core/logical-types.js';
import { jsonDecoder, textDecoder } from './files-codec.js';
import { decompressor } from './files-compress.js';
import { CsvParser } from './files-csv.js';
import { MANIFEST, type Manifest, type ManifestFile, streamFolder } from './files-manifest.js';
import { type AsyncBuffer, fromParquetValue, readRowGroups } from './files-parquet.js';
import type { Storage } from './files-storage.js';
import { readJson } from './files-writer.js';

export async function loadManifest(storage: Storage, ref: TableRef): Promise<Manifest> {
  const m = await readJson<Manifest>(storage, `${streamFolder(ref)}/${MANIFEST}`);
  if (!m) {
    throw new TerminalError(`no manifest ${streamFolder(ref)}/${MANIFEST} in ${storage.location}`, {
      hint: `${displayTable(ref)} has not been published there (has a run of it finished?)`,
    });
  }
  return m;
}

export function manifestTable(ref: TableRef, m: Manifest): TableInfo {
  const columns: ColumnInfo[] = m.columns.map((c) => ({
    name: c.name,
    nativeType: c.type,
    logical: parseLogical(c.type, `${MANIFEST} column ${c.name}`),
    nullable: c.nullable,
    default: null,
  }));
  return { ref, columns, primaryKey: m.primary_key, indexes: [], estimatedRows: m.rows };
}

const BATCH = 10_000;

export class FilesReader implements Reader {
  constructor(private readonly storage: Storage) {}

  async *read(req: ReadRequest, signal?: AbortSignal): AsyncIterable<RowBatch> {
    if (req.range) throw new TerminalError('a files target is read whole (no key ranges)');
    const m = await loadManifest(this.storage, req.table);
    const folder = streamFolder(req.table);
    for (const f of m.files) {
      if (signal?.aborted) return;
      yield* this.readFile(m, folder, f, req.columns);
    }
  }

  /** One file a manifest lists, checked against it, as rows of the requested columns. */
  async *readFile(
    m: Manifest,
    folder: string,
    f: ManifestFile,
    columns: readonly Pick<ColumnInfo, 'name'>[],
  ): AsyncIterable<RowBatch> {
    const byName = new Map(m.columns.map((c, i) => [c.name, i]));
    for (const want of columns) {
      if (!byName.has(want.name)) throw new TerminalError(`${folder}/${MANIFEST} has no column ${want.name}`);
    }
    const inFile = m.columns.filter((c) => !c.inPath);
    const types = new Map(m.columns.map((c) => [c.name, parseLogical(c.type, c.name)]));
    const key = `${folder}/${f.path}`;
    await this.checkFile(key, f);
    // Where each requested column comes from: the file (its position there) or the partition.
    const pick = columns.map((c) => {
      const j = inFile.findIndex((x) => x.name === c.name);
      if (j >= 0) return { j, part: undefined };
      const spec = m.partition_by.find((p) => p.column === c.name && !p.granularity);
      const exact = spec ? (f.partition?.[spec.key] ?? null) : null;
      return { j: -1, part: exact === null ? null : textDecoder(types.get(c.name)!)(exact) };
    });
    let rows = 0;
    for await (const fileRows of this.decode(
      m,
      key,
      inFile.map((c) => ({ name: c.name, logical: types.get(c.name)! })),
    )) {
      // The file's columns in the order asked for need no copy of each row.
      const same = pick.length === inFile.length && pick.every((p, i) => p.j === i);
      const out = same ? fileRows : fileRows.map((r) => pick.map((p) => (p.j >= 0 ? r[p.j] : p.part)));
      rows += out.length;
      yield { rows: out, bytes: out.length * 64 };
    }
    if (rows !== f.rows) {
      throw new TerminalError(`${key}: holds ${rows} rows, the manifest says ${f.rows}`, {
        hint: 'the file was changed after it was written; rerun the stream',
      });
    }
  }

  /** Size and sha256 as the manifest recorded them. */
  private async checkFile(key: string, f: ManifestFile): Promise<void> {
    const hash = createHash('sha256');
    let size = 0;
    let stream: AsyncIterable<Buffer>;
    try {
      stream = await this.storage.read(key);
    } catch (err) {
      throw new TerminalError(`${key}: listed in the manifest but cannot be read (${(err as Error).message})`, {
        hint: 'the file was removed after the run; rerun the stream',
      });
    }
    for await (const chunk of stream) {
      hash.update(chunk);
      size += chunk.length;
    }
    const sha = hash.digest('hex');
    if (size !== f.bytes || sha !== f.sha256) {
      throw new TerminalError(
        `${key}: ${size} bytes, sha256 ${sha.slice(0, 12)}…; the manifest says ${f.bytes} bytes, ${f.sha256.slice(0, 12)}…`,
        { hint: 'the file was changed after it was written; rerun the stream' },
      );
    }
  }

  private async *decode(
    m: Manifest,
    key: string,
    cols: { name: string; logical: LogicalType }[],
  ): AsyncIterable<unknown[][]> {
    if (m.format === 'parquet') {
      const conv = cols.map((c) => fromParquetValue(c.logical));
      const size = await this.storage.size(key);
      const file: AsyncBuffer = {
        byteLength: size,
        slice: async (start, end) => {
          const b = await this.storage.readRange(key, start, end ?? size);
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
        },
      };
      for await (const group of readRowGroups(
        file,
        cols.map((c) => c.name),
      )) {
        for (let s = 0; s < group.length; s += BATCH) {
          const slice = group.slice(s, s + BATCH);
          yield slice.map((r) => r.map((v, j) => (v === null || v === undefined ? null : conv[j](v))));
        }
      }
      return;
    }
    yield* decodeText(await this.storage.read(key), m.format, m.compression as Compression, cols, m, key);
  }
}

/** CSV or JSONL rows of a (compressed) byte stream, as logical values. */
async function* decodeText(
  input: AsyncIterable<Buffer> & NodeJS.ReadableStream,
  format: 'csv' | 'jsonl',
  compression: Compression,
  cols: { name: string; logical: LogicalType }[],
  m: Manifest,
  key: string,
): AsyncIterable<unknown[][]> {
  const dec = await decompressor(compression);
  const bytes: AsyncIterable<Buffer> = dec ? input.pipe(dec) : input;
  const text = new StringDecoder('utf8');
  if (format === 'jsonl') {
    const conv = cols.map((c) => jsonDecoder(c.logical));
    let rest = '';
    let line = 0;
    const parse = (l: string): unknown[] => {
      line++;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l);
      } catch (err) {
        throw new TerminalError(`${key}: line ${line}: not JSON (${(err as Error).message})`);
      }
      return cols.map((c, j) => {
        const v = o[c.name];
        return v === null || v === undefined ? null : conv[j](v);
      });
    };
    for await (const chunk of bytes) {
      const s = rest + text.write(chunk);
      const lines = s.split('\n');
      rest = lines.pop() ?? '';
      yield lines.filter((l) => l !== '').map(parse);
    }
    rest += text.end();
    if (rest.trim() !== '') yield [parse(rest)];
    return;
  }
  const o = m.csv ?? { delimiter: ',', quote: '"', null: '', header: true };
  const parser = new CsvParser(o);
  const conv = cols.map((c) => textDecoder(c.logical));
  let header = o.header;
  const toRow = (r: { text: string; quoted: boolean }[]): unknown[] => {
    if (r.length !== cols.length) {
      throw new TerminalError(`${key}: line ${parser.recordLine}: ${r.length} fields, expected ${cols.length}`);
    }
    return r.map((f, j) => (!f.quoted && f.text === o.null ? null : conv[j](f.text)));
  };
  const take = (records: { text: string; quoted: boolean }[][]): unknown[][] => {
    if (header && records.length > 0) {
      header = false;
      records = records.slice(1);
    }
    return records.map(toRow);
  };
  for await (const chunk of bytes) yield take(parser.push(text.write(chunk)));
  yield take([...parser.push(text.end()), ...parser.end()]);
}
