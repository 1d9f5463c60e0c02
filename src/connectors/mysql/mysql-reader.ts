import type { Reader, ReadRequest, RowBatch } from '../../core/connector.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlSession } from './mysql-session.js';
import { quoteIdent, quoteTable, rangeWhere } from './mysql-sql.js';
import { decoderFor } from './mysql-values.js';

const DEFAULT_BATCH_ROWS = 10_000;
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;

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
    const n = decoders.length;
    let done = false;
    const stream = conn
      .query({ sql, values: w.values, rowsAsArray: true, typeCast: false })
      .stream({ highWaterMark: 2000 });
    try {
      let rows: unknown[][] = [];
      let bytes = 0;
      for await (const raw of stream as AsyncIterable<(Buffer | null)[]>) {
        const row = new Array(n);
        for (let i = 0; i < n; i++) {
          const b = raw[i];
          if (b !== null) bytes += b.length;
          row[i] = decoders[i](b);
        }
        rows.push(row);
        if (rows.length >= batchRows || bytes >= batchBytes) {
          yield { rows, bytes };
          rows = [];
          bytes = 0;
        }
      }
      if (rows.length > 0) yield { rows, bytes };
      done = true;
    } catch (err) {
      throw classifyMysqlError(err, { query: sql });
    } finally {
      if (done) conn.release();
      else {
        // A result abandoned half way leaves the protocol mid-stream: discard the connection.
        stream.destroy();
        conn.destroy();
      }
    }
  }
}
