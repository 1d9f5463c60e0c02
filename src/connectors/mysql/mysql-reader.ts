import type { Reader, ReadRequest, RowBatch } from '../../core/connector.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlSession } from './mysql-session.js';
import { quoteIdent, quoteTable, rangeWhere } from './mysql-sql.js';
import { decoderFor, latin1DecoderFor } from './mysql-values.js';

const DEFAULT_BATCH_ROWS = 10_000;
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;
/** Decoded batches held before the socket is paused. */
const READY_BATCHES = 1;

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
    const cols = req.columns
      .map((c) => (c.logical.kind === 'float32' ? `CAST(${quoteIdent(c.name)} AS DOUBLE)` : quoteIdent(c.name)))
      .join(', ');
    const w = rangeWhere(req.key, req.range);
    const sql = `SELECT ${cols} FROM ${quoteTable(req.table)}${w.sql}`;
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
}
