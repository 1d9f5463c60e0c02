import type { Reader, ReadRequest, RowBatch } from '../../core/connector.js';
import { TerminalError } from '../../core/errors.js';
import type { SqliteSession } from './sqlite-session.js';
import { quoteIdent, quoteTable, rangeWhere } from './sqlite-sql.js';
import { decoderFor, type SqliteValue, SqliteValueError } from './sqlite-values.js';

const DEFAULT_BATCH_ROWS = 10_000;
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;

function approxBytes(v: SqliteValue): number {
  if (v === null) return 1;
  if (typeof v === 'string') return v.length;
  if (Buffer.isBuffer(v)) return v.length;
  return 8;
}

/** Reads a chunk on its own read-only connection with a stepping statement (one row in memory at a time). */
export class SqliteReader implements Reader {
  constructor(private readonly session: SqliteSession) {}

  async *read(req: ReadRequest): AsyncIterable<RowBatch> {
    const batchRows = req.batchRows ?? DEFAULT_BATCH_ROWS;
    const batchBytes = req.batchBytes ?? DEFAULT_BATCH_BYTES;
    const db = this.session.openReader();
    try {
      const where = rangeWhere(req.key, req.range);
      const cols = req.columns.map((c) => quoteIdent(c.name)).join(', ');
      const stmt = db.prepare(`SELECT ${cols} FROM ${quoteTable(req.table)}${where.sql}`).raw(true);
      const decoders = req.columns.map((c) => decoderFor(c.logical));
      const n = decoders.length;
      let rows: unknown[][] = [];
      let bytes = 0;
      for (const raw of stmt.iterate(...where.params) as IterableIterator<SqliteValue[]>) {
        const row = new Array(n);
        for (let i = 0; i < n; i++) {
          try {
            row[i] = decoders[i](raw[i]);
          } catch (err) {
            if (!(err instanceof SqliteValueError)) throw err;
            throw new TerminalError(err.message, {
              column: req.columns[i].name,
              hint: `the column is declared ${req.columns[i].nativeType || '(no type)'}; fix the value or choose the column's type with a cast`,
            });
          }
          bytes += approxBytes(raw[i]);
        }
        rows.push(row);
        if (rows.length >= batchRows || bytes >= batchBytes) {
          yield { rows, bytes };
          rows = [];
          bytes = 0;
        }
      }
      if (rows.length > 0) yield { rows, bytes };
    } finally {
      db.close();
    }
  }
}
