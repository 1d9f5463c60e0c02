import { Readable } from 'node:stream';
import type { ColumnInfo, Reader, ReadRequest, RowBatch } from '../../core/connector.js';
import type { LogicalType } from '../../core/logical-types.js';
import { BinaryOut, COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from '../../core/pg-copy-binary.js';
import { PgRowsFromMysql, pgBinaryFits, strAt, strLen, type WireColumn } from './mysql-binary-rows.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlSession } from './mysql-session.js';
import { quoteIdent, quoteTable, rangeWhere } from './mysql-sql.js';
import { decoderFor, latin1DecoderFor } from './mysql-values.js';

const DEFAULT_BATCH_ROWS = 10_000;
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;
/** Decoded batches held before the socket is paused. */
const READY_BATCHES = 1;

function selectSql(req: ReadRequest) {
  const cols = req.columns
    .map((c) => (c.logical.kind === 'float32' ? `CAST(${quoteIdent(c.name)} AS DOUBLE)` : quoteIdent(c.name)))
    .join(', ');
  const w = rangeWhere(req.key, req.range);
  return { sql: `SELECT ${cols} FROM ${quoteTable(req.table)}${w.sql}`, w };
}

/** Kinds whose text in MySQL's protocol never holds a tab, newline, backslash or NUL. */
const PLAIN_KINDS = new Set<LogicalType['kind']>([
  'int16',
  'int32',
  'int64',
  'uint64',
  'float32',
  'float64',
  'decimal',
  'date',
  'time',
  'timestamp',
  'timestamptz',
]);
/** A piece of LOAD DATA text is handed on once it holds this much. */
const RAW_PIECE_BYTES = 256 * 1024;
const BACKSLASH = 0x5c;
/**
 * Bytes LOAD DATA (ESCAPED BY '\\') must see escaped: the letter after the backslash, by byte value,
 * 0 for a byte that goes as it is. A table, not a Map: this is looked up for every byte of text.
 */
const ESCAPES = new Uint8Array(256);
for (const [byte, letter] of [
  [0x5c, 0x5c],
  [0x09, 0x74],
  [0x0a, 0x6e],
  [0x0d, 0x72],
  [0x00, 0x30],
  [0x1a, 0x5a],
]) {
  ESCAPES[byte] = letter;
}

/** The driver's view of one field while it parses a row (the argument of its typeCast hook). */
interface RawField {
  /** The server's column type, e.g. `LONG`. */
  type: string;
  string(encoding: string): string | null;
  buffer(): Buffer | null;
}

/** Integer column types whose text the driver parses straight from the bytes, exactly (up to 2^53). */
const DRIVER_INTEGERS = new Set(['TINY', 'SHORT', 'INT24', 'LONG', 'YEAR']);

/**
 * Reads a chunk with one keyset-bounded SELECT streamed from the server (the driver pauses the
 * socket when we stop pulling), on its own pooled connection. FLOAT columns are selected as
 * DOUBLE: MySQL prints a float with 6 significant digits, which is not the stored value.
 */
export class MysqlReader implements Reader {
  constructor(private readonly session: MysqlSession) {}

  async *read(req: ReadRequest): AsyncIterable<RowBatch> {
    const batchRows = req.batchRows ?? DEFAULT_BATCH_ROWS;
    const batchBytes = req.batchBytes ?? DEFAULT_BATCH_BYTES;
    const { sql, w } = selectSql(req);
    const conn = await this.session.connect();
    const decoders = req.columns.map((c) => decoderFor(c.logical));
    const latin1 = req.columns.map((c) => latin1DecoderFor(c.logical));
    const small = req.columns.map((c) => c.logical.kind === 'int16' || c.logical.kind === 'int32');
    let done = false;
    // Rows are decoded while the driver parses them (its typeCast hook, called for the fields of a
    // row in order) and handed over a batch at a time: no stream push, promise or microtask per
    // row, and no Buffer per field for numbers and dates (they are read as latin1 text). The socket
    // is paused while READY_BATCHES full batches wait for the consumer, so memory stays bounded.
    const ready: RowBatch[] = [];
    let rows: unknown[][] = [];
    let bytes = 0;
    let col = 0;
    let ended = false;
    let failed: unknown;
    let paused = false;
    let wake: (() => void) | undefined;
    const signal = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    const typeCast = (field: RawField, next: () => unknown): unknown => {
      const i = col++;
      if (small[i] && DRIVER_INTEGERS.has(field.type)) {
        // The same number as Number(text), without making the text.
        bytes += 4;
        return next();
      }
      const fromText = latin1[i];
      if (fromText !== null) {
        const s = field.string('latin1');
        if (s !== null) bytes += s.length;
        return fromText(s);
      }
      const b = field.buffer();
      if (b !== null) bytes += b.length;
      return decoders[i](b);
    };
    // A decoding error thrown in typeCast makes the driver end the query with that error.
    const query = conn.query({ sql, values: w.values, rowsAsArray: true, typeCast: typeCast as never });
    query.on('result', (row: unknown) => {
      col = 0;
      if (failed !== undefined) return;
      rows.push(row as unknown[]);
      if (rows.length >= batchRows || bytes >= batchBytes) {
        ready.push({ rows, bytes });
        rows = [];
        bytes = 0;
        if (!paused && ready.length >= READY_BATCHES) {
          paused = true;
          conn.pause();
        }
        signal();
      }
    });
    query.on('error', (err: unknown) => {
      failed ??= err;
      signal();
    });
    query.on('end', () => {
      ended = true;
      signal();
    });
    // A connection lost mid-result (killed, network) is reported on the connection, not the query.
    const onConnectionError = (err: unknown) => {
      failed ??= err;
      signal();
    };
    conn.on('error', onConnectionError);
    try {
      for (;;) {
        if (failed !== undefined) throw failed;
        const batch = ready.shift();
        if (batch) {
          if (paused && ready.length < READY_BATCHES) {
            paused = false;
            conn.resume();
          }
          yield batch;
          continue;
        }
        if (ended) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (rows.length > 0) yield { rows, bytes };
      done = true;
    } catch (err) {
      throw classifyMysqlError(err, { query: sql });
    } finally {
      conn.off('error', onConnectionError);
      // A result abandoned half way leaves the protocol mid-stream: discard the connection.
      if (done) conn.release();
      else conn.destroy();
    }
  }

  /** Whether `readRaw` can make `format` for these columns going into these target types. */
  rawFor(format: string, columns: readonly ColumnInfo[], targetTypes: readonly string[]): boolean {
    return format === 'postgres-binary' && pgBinaryFits(columns, targetTypes);
  }

  /**
   * The range as raw bytes, made from the bytes the server sent, with no JS value per field in
   * between (a value per field and its garbage were most of a row copy's CPU):
   * - `mysql-text`, LOAD DATA text (tab-separated, backslash escapes, `\\N` for NULL) for a MySQL
   *   target with the same column types, from the text protocol's fields, escaped only where a
   *   value can hold a special byte;
   * - `postgres-binary`, PostgreSQL's binary COPY in the target types `req.targetTypes`, from the
   *   binary protocol's rows (a prepared statement; see mysql-binary-rows.ts). A value it cannot
   *   write exactly as the row path would load it (a zero date, invalid UTF-8, a NUL, a number out
   *   of range: what a policy would look at) ends the stream with `RawUnfit`, and the chunk is
   *   copied by rows instead.
   * The stream's `rows` is set at its end.
   */
  async readRaw(req: ReadRequest, format: string): Promise<Readable> {
    let pg: PgRowsFromMysql | null = null;
    if (format === 'postgres-binary') {
      const types = req.targetTypes;
      if (!types) throw new Error('postgres-binary needs the target types');
      pg = new PgRowsFromMysql(req.columns, types);
    } else if (format !== 'mysql-text') throw new Error(`MysqlReader cannot produce ${format}`);
    const { sql, w } = selectSql(req);
    const conn = await this.session.connect();
    const out = new BinaryOut();
    out.buf = Buffer.allocUnsafe(RAW_PIECE_BYTES * 2);
    if (pg) out.pos += COPY_BINARY_HEADER.copy(out.buf, 0);
    let rows = 0;
    let paused = false;
    let ended = false;
    const stream = new Readable({
      highWaterMark: RAW_PIECE_BYTES * 4,
      read() {
        if (paused) {
          paused = false;
          conn.resume();
        }
      },
      destroy(err, cb) {
        // Abandoned half way (the load failed): the connection is mid-result, discard it.
        if (!ended) conn.destroy();
        cb(err);
      },
    }) as Readable & { rows?: number };
    // The query runs before the writer pipes the stream (its transaction starts meanwhile): an error
    // by then must not go unheard. The pipe still sees it (the stream stays `errored`).
    stream.on('error', () => {});
    const flush = () => {
      if (out.pos === 0) return;
      // The piece is handed on as it is, and the next one gets a new buffer (no copy).
      const piece = out.buf.subarray(0, out.pos);
      out.buf = Buffer.allocUnsafe(RAW_PIECE_BYTES * 2);
      out.pos = 0;
      if (!stream.push(piece) && !paused) {
        paused = true;
        conn.pause();
      }
    };
    // mysql2 does not catch what a typeCast hook throws (it would surface as an uncaught exception
    // from the socket's data handler), and an error thrown by a row parser ends its command while
    // the server still sends: a RawUnfit is kept, the stream fails with it once the parser is out,
    // and the rows still arriving are only stepped over.
    let unfit: unknown;
    const fail = (err: unknown) => {
      if (ended) return;
      ended = true;
      conn.destroy();
      stream.destroy(classifyMysqlError(err, { query: sql }));
    };
    const unfitAt = (err: unknown) => {
      unfit = err;
      queueMicrotask(() => fail(err));
    };
    let query: ReturnType<typeof conn.query>;
    if (pg) {
      const encoder = pg;
      query = conn.execute({ sql, values: w.values });
      // mysql2's Execute asks this for the row parser of the result (after the column definitions);
      // ours writes each row packet's binary COPY row and gives the driver nothing to keep.
      (query as unknown as ExecuteHooks).buildParserFromFields = (wire) => {
        encoder.bind(wire);
        return class {
          next(packet: { buffer: Buffer; offset: number }): null {
            if (unfit !== undefined) return null;
            try {
              encoder.row(packet.buffer, packet.offset, out);
            } catch (err) {
              unfitAt(err);
              return null;
            }
            rows++;
            if (out.pos >= RAW_PIECE_BYTES) flush();
            return null;
          }
        };
      };
    } else {
      query = conn.query({ sql, values: w.values, rowsAsArray: true });
      // mysql2's Query builds its row parser when the column definitions have arrived and stores it
      // here (there is no hook as Execute has). Ours writes each row packet's LOAD DATA text straight
      // from the packet: mysql2's parser, or its typeCast hook, makes a Buffer per field, about 40M
      // for 5.2M rows of 8 columns (half of ferry's CPU on MySQL -> MySQL, mostly garbage).
      let encode: ((b: Buffer, start: number, out: BinaryOut) => void) | null = null;
      query.on('fields', (wire: readonly { columnType: number }[]) => {
        encode = mysqlTextRow(
          req.columns,
          wire.map((f) => f.columnType === MYSQL_TYPE_BIT),
        );
      });
      const parser = {
        next(packet: { buffer: Buffer; offset: number }): null {
          if (unfit !== undefined || encode === null) return null;
          try {
            encode(packet.buffer, packet.offset, out);
          } catch (err) {
            unfitAt(err);
          }
          return null;
        },
      };
      Object.defineProperty(query, '_rowParser', { get: () => parser, set: () => {}, configurable: true });
      query.on('result', () => {
        rows++;
        if (out.pos >= RAW_PIECE_BYTES && unfit === undefined) flush();
      });
    }
    query.on('error', fail);
    conn.on('error', fail);
    query.on('end', () => {
      if (ended) return;
      if (unfit !== undefined) {
        fail(unfit);
        return;
      }
      ended = true;
      conn.off('error', fail);
      if (pg) {
        out.room(COPY_BINARY_TRAILER.length);
        out.pos += COPY_BINARY_TRAILER.copy(out.buf, out.pos);
      }
      flush();
      stream.rows = rows;
      stream.push(null);
      // The last piece may have paused the socket: a connection must go back to the pool flowing,
      // or the next query on it waits forever.
      if (paused) {
        paused = false;
        conn.resume();
      }
      conn.release();
    });
    return stream;
  }
}

/** The hook of mysql2's Execute command that gives the row parser class of a result. */
interface ExecuteHooks {
  buildParserFromFields(fields: readonly WireColumn[]): new () => { next(packet: unknown): unknown };
}

/** A NULL field of a text-protocol row. */
const TEXT_NULL = 0xfb;
/** The wire type of BIT columns: their value is bytes, which LOAD DATA takes as decimal text. */
const MYSQL_TYPE_BIT = 16;

/**
 * LOAD DATA text of a text-protocol row packet from `start`: each field (a length-encoded string,
 * or 0xfb for NULL) escaped as needed, with the tab or newline after it.
 */
function mysqlTextRow(columns: readonly ColumnInfo[], bits: readonly boolean[]) {
  const plain = columns.map((c) => PLAIN_KINDS.has(c.logical.kind));
  const last = columns.length - 1;
  return (b: Buffer, start: number, out: BinaryOut): void => {
    let p = start;
    for (let i = 0; i <= last; i++) {
      if (b[p] === TEXT_NULL) {
        p++;
        out.room(3);
        out.buf[out.pos++] = BACKSLASH;
        out.buf[out.pos++] = 0x4e; // N
      } else {
        const len = strLen(b, p);
        p = strAt;
        const end = p + len;
        if (bits[i]) {
          const t = bitText(b.subarray(p, end))!;
          out.room(t.length + 1);
          out.pos += t.copy(out.buf, out.pos);
        } else if (plain[i]) {
          out.room(len + 1);
          // Numbers are a few bytes: a loop beats a native copy call per field.
          if (len > 32) out.pos += b.copy(out.buf, out.pos, p, end);
          else {
            const buf = out.buf;
            let pos = out.pos;
            for (let k = p; k < end; k++) buf[pos++] = b[k];
            out.pos = pos;
          }
        } else {
          out.room(len * 2 + 1);
          const buf = out.buf;
          let pos = out.pos;
          for (let k = p; k < end; k++) {
            const e = ESCAPES[b[k]];
            if (e === 0) buf[pos++] = b[k];
            else {
              buf[pos++] = BACKSLASH;
              buf[pos++] = e;
            }
          }
          out.pos = pos;
        }
        p = end;
      }
      out.buf[out.pos++] = i === last ? 0x0a : 0x09;
    }
  };
}

/** A BIT value (big-endian bytes) as the decimal text LOAD DATA casts into the column. */
function bitText(b: Buffer | null): Buffer | null {
  if (b === null) return null;
  return Buffer.from(BigInt(`0x${b.toString('hex') || '0'}`).toString(), 'latin1');
}
