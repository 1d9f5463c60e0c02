/**
 * One data file being written: rows in, encoded (CSV, JSONL or Parquet), compressed, hashed and
 * counted on the way to the storage's object writer. Every write waits for the stream below it
 * (backpressure), so memory holds at most a batch, a Parquet row group and the stream buffers.
 */
import { createHash } from 'node:crypto';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { FileLayout } from '../../core/file-layout.js';
import { jsonEncoder, textEncoder } from './files-codec.js';
import { compressor, zstdWasm } from './files-compress.js';
import { CsvEncoder } from './files-csv.js';
import { jsonFooter, type ParquetColumn, ParquetValueError, schemaElement, toParquetValue } from './files-parquet.js';
import type { ObjectWriter } from './files-storage.js';

export interface FileResult {
  rows: number;
  bytes: number;
  sha256: string;
}

export interface RowSink {
  /** Rows taken so far. */
  readonly rows: number;
  /** Bytes written to storage so far (compressed), for the file size bound. */
  readonly bytes: number;
  /** Bytes of rows held in memory, not yet encoded (a Parquet row group being gathered). */
  readonly buffered: number;
  write(rows: readonly unknown[][], approxBytes: number): Promise<void>;
  /** Encodes what is held in memory now (a smaller row group), to free it. */
  flushBuffered(): Promise<void>;
  close(): Promise<FileResult>;
  abort(): Promise<void>;
}

/** Hashes and counts the bytes that reach storage. */
class Meter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.push(chunk);
    cb();
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Writes to a stream, waiting for it to drain when its buffer is full. */
function writeTo(s: Writable, data: Buffer | string): Promise<void> | undefined {
  if (s.write(data)) return undefined;
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      s.off('drain', done);
      s.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    s.on('drain', done);
    s.on('error', done);
  });
}

/** The stream chain below the encoder: [compressor] -> meter -> object writer. */
async function chain(out: ObjectWriter, layout: FileLayout) {
  const meter = new Meter();
  const comp = layout.format === 'parquet' ? null : await compressor(layout.compression);
  const head: Writable = comp ?? meter;
  const done = comp ? pipeline(comp, meter, out.stream) : pipeline(meter, out.stream);
  // A failure below surfaces at the next write or at close; never as an unhandled rejection.
  done.catch(() => {});
  return { meter, head, done };
}

const ROW_GROUP_BYTES = 64 * 1024 * 1024;

/**
 * Rows all the Parquet files being written in this process may hold in their row groups at once.
 * Each group holds row_group_rows converted values per column until it is encoded, and chunks write
 * at once: 4 chunks of 100,000 rows of the 5.18M-row table peaked at 299 MB RSS, 4 of 50,000 at
 * 247 MB, for the same time. So with more files open than the budget allows, their groups are
 * smaller (never under MIN_GROUP_ROWS).
 */
const PARQUET_ROWS_IN_MEMORY = 200_000;
const MIN_GROUP_ROWS = 10_000;
let openParquetSinks = 0;

export async function openSink(
  out: ObjectWriter,
  layout: FileLayout,
  columns: readonly ParquetColumn[],
  index: readonly number[],
): Promise<RowSink> {
  const { meter, head, done } = await chain(out, layout);
  let rows = 0;
  let closed = false;
  const finish = async (): Promise<FileResult> => {
    closed = true;
    head.end();
    await done;
    await out.commit();
    return { rows, bytes: meter.bytes, sha256: meter.digest() };
  };
  const abort = async () => {
    closed = true;
    head.destroy();
    await done.catch(() => {});
    await out.abort();
  };

  /** A text format: each batch becomes one string, written with backpressure. */
  const textSink = (encode: (batch: readonly unknown[][]) => string): RowSink => ({
    get rows() {
      return rows;
    },
    get bytes() {
      return meter.bytes;
    },
    buffered: 0,
    async write(batch) {
      const text = encode(batch);
      rows += batch.length;
      await writeTo(head, text);
    },
    async flushBuffered() {},
    close: finish,
    abort,
  });

  if (layout.format === 'csv') {
    const csv = new CsvEncoder(layout.csv);
    const enc = columns.map((c) => textEncoder(c.logical));
    if (layout.csv.header) await writeTo(head, csv.line(columns.map((c) => c.name)));
    const fields: (string | null)[] = new Array(columns.length);
    return textSink((batch) => {
      let text = '';
      for (const row of batch) {
        for (let j = 0; j < index.length; j++) {
          const v = row[index[j]];
          fields[j] = v === null || v === undefined ? null : enc[j](v);
        }
        text += csv.line(fields);
      }
      return text;
    });
  }

  if (layout.format === 'jsonl') {
    const enc = columns.map((c) => jsonEncoder(c.logical));
    const keys = columns.map((c, j) => `${j === 0 ? '{' : ','}${JSON.stringify(c.name)}:`);
    return textSink((batch) => {
      let text = '';
      for (const row of batch) {
        for (let j = 0; j < index.length; j++) {
          const v = row[index[j]];
          text += keys[j] + (v === null || v === undefined ? 'null' : enc[j](v));
        }
        text += index.length === 0 ? '{}\n' : '}\n';
      }
      return text;
    });
  }

  // Parquet: rows are gathered into a row group, then encoded column by column.
  const codec = layout.compression;
  const compressors: Record<string, (b: Uint8Array) => Uint8Array> = {};
  if (codec === 'zstd') {
    const z = await zstdWasm();
    compressors.ZSTD = (b) => z.compress(b, 3);
  }
  if (codec === 'gzip') compressors.GZIP = (b) => zlib.gzipSync(b);
  const writer = new ByteWriter(1 << 20) as ByteWriter & { flush(): Promise<void> | undefined; index: number };
  writer.flush = () => {
    if (writer.index === 0) return undefined;
    const bytes = Buffer.from(new Uint8Array(writer.buffer, 0, writer.index));
    writer.index = 0;
    return writeTo(head, bytes);
  };
  writer.finish = () => {};
  const pw = new ParquetWriter({
    writer,
    schema: [{ name: 'schema', num_children: columns.length }, ...columns.map(schemaElement)],
    codec: codec === 'zstd' ? 'ZSTD' : codec === 'gzip' ? 'GZIP' : codec === 'snappy' ? 'SNAPPY' : 'UNCOMPRESSED',
    compressors,
    createdBy: 'ferry (hyparquet-writer)',
  });
  const conv = columns.map((c) => toParquetValue(c.logical));
  // High-cardinality kinds skip the dictionary: it would key every value of the group in a Map (and
  // it keys by SameValueZero, so a float -0 would become 0).
  const plain = columns.map((c) => ['float32', 'float64', 'uuid', 'bytes'].includes(c.logical.kind));
  openParquetSinks++;
  let counted = true;
  const release = () => {
    if (counted) openParquetSinks--;
    counted = false;
  };
  const groupRows = () =>
    Math.min(layout.rowGroupRows, Math.max(MIN_GROUP_ROWS, Math.floor(PARQUET_ROWS_IN_MEMORY / openParquetSinks)));
  // Values are converted to their Parquet primitives as rows arrive, column by column, so the
  // reader's row arrays are not held until the row group is full.
  let data: unknown[][] = columns.map(() => []);
  let held = 0;
  let groupBytes = 0;
  const flushGroup = async () => {
    if (held === 0) return;
    const n = held;
    const columnData = columns.map((c, j) =>
      plain[j] ? { name: c.name, data: data[j], encoding: 'PLAIN' as const } : { name: c.name, data: data[j] },
    );
    data = columns.map(() => []);
    held = 0;
    groupBytes = 0;
    await pw.write({ columnData, rowGroupSize: n });
    await writer.flush();
  };
  const take = (batch: readonly unknown[][], from: number, to: number) => {
    for (let j = 0; j < columns.length; j++) {
      const out = data[j];
      const idx = index[j];
      const f = conv[j];
      try {
        for (let k = from; k < to; k++) {
          const v = batch[k][idx];
          out.push(v === null || v === undefined ? null : f(v));
        }
      } catch (err) {
        if (err instanceof ParquetValueError) err.column = columns[j].name;
        throw err;
      }
    }
    held += to - from;
  };
  return {
    get rows() {
      return rows;
    },
    get bytes() {
      return meter.bytes + writer.index;
    },
    get buffered() {
      return groupBytes;
    },
    async write(batch, approxBytes) {
      let from = 0;
      while (from < batch.length) {
        const limit = groupRows();
        const n = Math.max(1, Math.min(limit - held, batch.length - from));
        take(batch, from, from + n);
        groupBytes += (approxBytes * n) / batch.length;
        from += n;
        if (held >= limit || groupBytes >= ROW_GROUP_BYTES) await flushGroup();
      }
      rows += batch.length;
    },
    flushBuffered: flushGroup,
    async close() {
      if (closed) throw new Error('sink closed twice');
      release();
      await flushGroup();
      jsonFooter(pw.schema);
      pw.finish();
      await writer.flush();
      return finish();
    },
    async abort() {
      release();
      await abort();
    },
  };
}
