import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Reader, ReadRequest, RowBatch } from '../../core/connector.js';
import { CopyOutFrames } from './postgres-copy-frames.js';
import { CopyTextParser } from './postgres-copy-text.js';
import { classifyPgError } from './postgres-errors.js';
import type { PgSession } from './postgres-session.js';
import { pagesWhere, quoteIdent, quoteLiteral, quoteTable, rangeWhere } from './postgres-sql.js';

const DEFAULT_BATCH_ROWS = 10_000;
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;

function selectSql(req: ReadRequest): string {
  const cols = req.columns.map((c) => quoteIdent(c.name)).join(', ');
  const where = req.pages ? pagesWhere(req.pages) : rangeWhere(req.key, req.range);
  return `SELECT ${cols} FROM ${quoteTable(req.table)}${where}`;
}

/**
 * Reads with `COPY (SELECT ...) TO STDOUT`: the server streams the range at full speed and the
 * socket's backpressure holds it when the writer is slower, so memory stays at one batch.
 */
export class PostgresReader implements Reader {
  constructor(private readonly session: PgSession) {}

  async *read(req: ReadRequest): AsyncIterable<RowBatch> {
    const batchRows = req.batchRows ?? DEFAULT_BATCH_ROWS;
    const batchBytes = req.batchBytes ?? DEFAULT_BATCH_BYTES;
    const sql = `COPY (${selectSql(req)}) TO STDOUT`;
    const client = await this.connect(req);
    let done = false;
    const stream = client.query(copyTo(sql));
    try {
      const parser = new CopyTextParser(req.columns.map((c) => c.logical));
      const decoder = new StringDecoder('utf8');
      let rows: unknown[][] = [];
      let bytes = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        parser.push(decoder.write(chunk), rows);
        bytes += chunk.length;
        if (rows.length >= batchRows || bytes >= batchBytes) {
          yield { rows, bytes };
          rows = [];
          bytes = 0;
        }
      }
      parser.push(decoder.end(), rows);
      parser.end();
      if (rows.length > 0) yield { rows, bytes };
      if (req.pages) await client.query('COMMIT');
      done = true;
    } catch (err) {
      throw classifyPgError(err, { query: sql });
    } finally {
      if (!done) stream.destroy();
      // A COPY abandoned half way leaves the connection mid-protocol: discard it rather than reuse.
      client.release(!done);
    }
  }

  /**
   * Binary COPY of the range: `postgres-binary` is the COPY data itself, `postgres-copydata` the
   * server's CopyData messages as they came, for a PostgreSQL writer to send on unchanged.
   */
  async readRaw(req: ReadRequest, format: string): Promise<Readable> {
    if (format !== 'postgres-binary' && format !== 'postgres-copydata')
      throw new Error(`PostgresReader cannot produce ${format}`);
    const client = await this.connect(req);
    const sql = `COPY (${selectSql(req)}) TO STDOUT (FORMAT binary)`;
    const stream: Readable = client.query(format === 'postgres-copydata' ? new CopyOutFrames(sql) : copyTo(sql));
    let released = false;
    const release = (broken: boolean) => {
      if (released) return;
      released = true;
      client.release(broken);
    };
    let ending = false;
    const ended = () => {
      if (ending) return;
      ending = true;
      // A page range's snapshot transaction ends before the connection goes back to the pool.
      if (!req.pages) release(false);
      else
        client.query('COMMIT').then(
          () => release(false),
          () => release(true),
        );
    };
    stream.on('end', ended);
    stream.on('error', (err) => {
      release(true);
      // pg-copy-streams emits the error without destroying the stream. If the consumer is not
      // piped yet (the writer is still opening its transaction), it would later read a stream
      // whose parser is gone (TypeError, a terminal failure) or wait forever. Destroyed with the
      // error, the stream makes any later pipeline fail at once with the original, retryable error.
      if (!stream.destroyed) stream.destroy(err);
    });
    stream.on('close', () => (stream.readableEnded ? ended() : release(true)));
    return stream;
  }

  /**
   * A pooled connection; for a page range, inside a transaction on the session's shared snapshot.
   * A snapshot whose holder died cannot be imported: it is dropped and a new one exported, once.
   */
  private async connect(req: ReadRequest): Promise<PoolClient> {
    const client = await this.session.connect();
    if (!req.pages) return client;
    for (let attempt = 1; ; attempt++) {
      const id = await this.session.snapshot().catch((err) => {
        client.release();
        throw err;
      });
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(id)}`);
        return client;
      } catch (err) {
        const broken = await client.query('ROLLBACK').then(
          () => false,
          () => true,
        );
        this.session.forgetSnapshot(id);
        if (attempt < 2 && !broken) continue;
        client.release(broken);
        throw classifyPgError(err, { query: 'SET TRANSACTION SNAPSHOT' });
      }
    }
  }
}
