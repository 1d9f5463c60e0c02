import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type {
  ChunkMarker,
  ChunkWrite,
  ColumnInfo,
  IndexInfo,
  RowBatch,
  TargetColumn,
  TargetTable,
  TypeMapping,
  Writer,
} from '../../core/connector.js';
import { RawUnfit, TerminalError } from '../../core/errors.js';
import type { TableRef } from '../../core/identifiers.js';
import {
  type BinaryField,
  binaryFieldFor,
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
  CopyBinaryEncoder,
} from '../../core/pg-copy-binary.js';
import { copyInFrames } from './postgres-copy-frames.js';
import { escapeCopy, literalEncoderFor } from './postgres-copy-text.js';
import { classifyPgError } from './postgres-errors.js';
import type { PgSession } from './postgres-session.js';
import { pgIdent, quoteIdent, quoteTable } from './postgres-sql.js';
import { pgTypeFor } from './postgres-types.js';

const LEDGER = 'public._ferry_chunks';
/** Marker chunk ids of a stream's last step. */
const SWAPPED = '__swapped__';
const DONE = '__done__';

type RowEncoder = (v: unknown) => string;

function nulError(column: string, context: { stream: string; chunk: string }): never {
  throw new TerminalError('text contains a NUL byte (0x00), which PostgreSQL cannot store', {
    ...context,
    column,
    hint: 'remove NUL bytes at the source, or move the column as bytes',
  });
}

function columnEncoder(col: TargetColumn, context: { stream: string; chunk: string }): RowEncoder {
  // Text for PostgreSQL's own input functions to cast (a files source).
  if (col.fromText) return (v) => (v === null || v === undefined ? '\\N' : escapeCopy(String(v)));
  const lit = literalEncoderFor(col.logical);
  const kind = col.logical.kind;
  if (kind === 'int16' || kind === 'int32' || kind === 'int64' || kind === 'uint64' || kind === 'boolean') {
    return (v) => (v === null || v === undefined ? '\\N' : lit(v));
  }
  if (kind === 'text' || kind === 'json') {
    return (v) => {
      if (v === null || v === undefined) return '\\N';
      const s = String(v);
      if (s.includes('\u0000')) nulError(col.name, context);
      return escapeCopy(s);
    };
  }
  // The text of these types never holds a tab, newline or backslash: no escaping to scan for.
  if (NO_ESCAPE.has(kind)) return (v) => (v === null || v === undefined ? '\\N' : lit(v));
  return (v) => (v === null || v === undefined ? '\\N' : escapeCopy(lit(v)));
}

const NO_ESCAPE = new Set(['float32', 'float64', 'decimal', 'uuid', 'date', 'time', 'timestamp', 'timestamptz']);

/**
 * SQLSTATE classes of a row the database refuses: data exceptions (22: bad input syntax, value too
 * long, out of range, invalid date), NOT NULL (23502) and CHECK (23514) violations.
 */
function isRowError(code: string): boolean {
  return code.startsWith('22') || code === '23502' || code === '23514';
}

/** The line (1-based, within the COPY), column and reason of a COPY that failed on one row. */
function badCopyLine(err: unknown): { line: number; column: string | null; reason: string } | null {
  const e = err as { code?: string; where?: string; message?: string; column?: string };
  if (!e.code || !isRowError(e.code) || !e.where) return null;
  const m = /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(e.where);
  if (!m) return null;
  return { line: Number(m[1]), column: m[2] ?? e.column ?? null, reason: e.message ?? String(err) };
}

/** Writes a string into a stream, waiting for 'drain' when its buffer is full (backpressure). */
function write(stream: Writable, data: string | Buffer): Promise<void> | undefined {
  if (stream.write(data)) return undefined;
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (err: Error) => {
      stream.off('drain', onDrain);
      reject(err);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

/**
 * Loads with `COPY FROM STDIN` inside one transaction per chunk, with the chunk's marker row in
 * `public._ferry_chunks` inserted first: a second attempt of an already committed chunk fails on
 * the marker's key before copying anything, so no row is ever written twice.
 */
export class PostgresWriter implements Writer {
  /** Column types (`format_type`) of the tables loaded so far, by quoted table name. */
  private readonly columnTypes = new Map<string, Map<string, string>>();
  /** Tables a value did not fit in binary for: their later chunks go as text from the start. */
  private readonly textOnly = new Set<string>();

  constructor(private readonly session: PgSession) {}

  /**
   * The binary COPY encoders of the chunk's columns, chosen by the loaded table's real column
   * types, or null when a column must go as text: it is cast by the database (a files source), or
   * its type has no binary encoder here, or a value of this table did not fit before.
   */
  private async binaryFields(client: PoolClient, w: ChunkWrite): Promise<BinaryField[] | null> {
    const table = quoteTable(w.table);
    if (this.textOnly.has(table) || w.columns.some((c) => c.fromText)) return null;
    let types = this.columnTypes.get(table);
    if (!types) {
      const rows = await client.query<{ name: string; type: string }>(
        `SELECT attname AS name, format_type(atttypid, NULL) AS type FROM pg_attribute
          WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
        [table],
      );
      types = new Map(rows.rows.map((r) => [r.name, r.type]));
      this.columnTypes.set(table, types);
    }
    const ctx = { stream: w.stream, chunk: w.chunkId };
    const fields: BinaryField[] = [];
    for (const c of w.columns) {
      const type = types.get(c.name);
      const field = type === undefined ? null : binaryFieldFor(type, c.name, (col) => nulError(col, ctx));
      if (!field) return null;
      fields.push(field);
    }
    return fields;
  }

  mapType(column: ColumnInfo, sourceDialect: string): TypeMapping {
    if (sourceDialect === 'postgres' && column.note === undefined) return { nativeType: column.nativeType };
    return { nativeType: pgTypeFor(column.logical), lossy: column.note };
  }

  async ensureChunkLedger(): Promise<void> {
    await this.session.query(
      `CREATE TABLE IF NOT EXISTS ${LEDGER} (
         run_id text NOT NULL, stream text NOT NULL, chunk_id text NOT NULL, rows bigint NOT NULL DEFAULT 0,
         rejects bigint NOT NULL DEFAULT 0,
         committed_at timestamptz NOT NULL DEFAULT now(),
         CONSTRAINT _ferry_chunks_pkey PRIMARY KEY (run_id, stream, chunk_id))`,
    );
    // Ledgers created by ferry 0.1 have no reject count.
    await this.session.query(`ALTER TABLE ${LEDGER} ADD COLUMN IF NOT EXISTS rejects bigint NOT NULL DEFAULT 0`);
  }

  async committedChunks(runId: string, stream: string): Promise<Map<string, ChunkMarker>> {
    const rows = await this.session.query<{ chunk_id: string; rows: string; rejects: string }>(
      `SELECT chunk_id, rows, rejects FROM ${LEDGER} WHERE run_id = $1 AND stream = $2`,
      [runId, stream],
    );
    return new Map(rows.map((r) => [r.chunk_id, { rows: Number(r.rows), rejects: Number(r.rejects) }]));
  }

  async forgetRuns(stream: string, keepRunId: string): Promise<void> {
    await this.session.query(`DELETE FROM ${LEDGER} WHERE stream = $1 AND run_id <> $2`, [stream, keepRunId]);
  }

  async streamFinished(runId: string, stream: string): Promise<boolean> {
    const rows = await this.session.query(
      `SELECT 1 FROM ${LEDGER} WHERE run_id = $1 AND stream = $2 AND chunk_id IN ($3, $4)`,
      [runId, stream, SWAPPED, DONE],
    );
    return rows.length > 0;
  }

  async tableExists(ref: TableRef): Promise<boolean> {
    const rows = await this.session.query('SELECT to_regclass($1) IS NOT NULL AS e', [quoteTable(ref)]);
    return rows[0].e === true;
  }

  async existingColumns(ref: TableRef): Promise<string[]> {
    const rows = await this.session.query<{ name: string }>(
      `SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [quoteTable(ref)],
    );
    return rows.map((r) => r.name);
  }

  async createTable(table: TargetTable, options: { primaryKey: boolean; ifNotExists: boolean }): Promise<void> {
    const defs = table.columns.map((c) => `${quoteIdent(c.name)} ${c.nativeType}${c.nullable ? '' : ' NOT NULL'}`);
    if (options.primaryKey && table.primaryKey.length > 0) {
      defs.push(`PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')})`);
    }
    if (table.ref.schema) await this.session.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(table.ref.schema)}`);
    await this.session.query(
      `CREATE TABLE ${options.ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteTable(table.ref)} (\n  ${defs.join(',\n  ')}\n)`,
    );
  }

  async dropTable(ref: TableRef): Promise<void> {
    await this.session.query(`DROP TABLE IF EXISTS ${quoteTable(ref)}`);
  }

  private async inChunkTransaction(w: ChunkWrite, load: (client: PoolClient) => Promise<number>): Promise<number> {
    const ctx = { stream: w.stream, chunk: w.chunkId };
    const client = await this.session.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${LEDGER} (run_id, stream, chunk_id) VALUES ($1, $2, $3)`, [
        w.runId,
        w.stream,
        w.chunkId,
      ]);
      const rows = await load(client);
      await client.query(
        `UPDATE ${LEDGER} SET rows = $4, rejects = $5 WHERE run_id = $1 AND stream = $2 AND chunk_id = $3`,
        [w.runId, w.stream, w.chunkId, rows, w.rejects?.() ?? 0],
      );
      await client.query('COMMIT');
      return rows;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw classifyPgError(err, ctx);
    } finally {
      client.release(broken);
    }
  }

  writeChunk(w: ChunkWrite, batches: AsyncIterable<RowBatch>): Promise<number> {
    const ctx = { stream: w.stream, chunk: w.chunkId };
    const encoders = w.columns.map((c) => columnEncoder(c, ctx));
    const n = encoders.length;
    const cols = w.columns.map((c) => quoteIdent(c.name)).join(', ');
    if (w.onReject) return this.inChunkTransaction(w, (client) => this.copyRejecting(client, w, batches, encoders));
    const textOf = (rows: readonly unknown[][]): string => {
      let text = '';
      for (const row of rows) {
        let line = encoders[0](row[0]);
        for (let i = 1; i < n; i++) line += `\t${encoders[i](row[i])}`;
        text += `${line}\n`;
      }
      return text;
    };
    return this.inChunkTransaction(w, async (client) => {
      const fields = await this.binaryFields(client, w);
      let binary = fields ? new CopyBinaryEncoder(fields) : null;
      // The COPY can fail while we wait for the source (e.g. its connection is terminated): keep
      // the error for the next step rather than leave an 'error' event unheard (that kills the
      // process). A COPY that failed has let go of its connection: it is not written to again.
      let copyError: Error | undefined;
      const open = (format: string) => {
        const c = client.query(copyFrom(`COPY ${quoteTable(w.table)} (${cols}) FROM STDIN${format}`));
        c.on('error', (e: Error) => {
          copyError ??= e;
        });
        return c;
      };
      let copy = open(binary ? ' (FORMAT binary)' : '');
      let header = true;
      /** The end of a binary COPY: its trailer, after the header when no row was sent. */
      const binaryEnd = () => (header ? Buffer.concat([COPY_BINARY_HEADER, COPY_BINARY_TRAILER]) : COPY_BINARY_TRAILER);
      let rows = 0;
      try {
        for await (const batch of batches) {
          if (copyError) throw copyError;
          let data: string | Buffer | null = null;
          if (binary) {
            try {
              data = binary.encode(batch.rows, header);
              header = false;
            } catch (err) {
              if (!(err instanceof RawUnfit)) throw err;
              // The rows copied so far stay (same transaction); this batch and the rest of the
              // chunk, and the table's later chunks, go as text for the server to read.
              this.textOnly.add(quoteTable(w.table));
              binary = null;
              copy.end(binaryEnd());
              await finished(copy);
              if (copyError) throw copyError;
              copy = open('');
            }
          }
          data ??= textOf(batch.rows);
          rows += batch.rows.length;
          await write(copy, data);
        }
      } catch (err) {
        if (copyError) throw copyError;
        // CopyFail: the server aborts the COPY and the transaction rolls back.
        copy.destroy(err as Error);
        await finished(copy).catch(() => {});
        throw err;
      }
      if (copyError) throw copyError;
      copy.end(binary ? binaryEnd() : undefined);
      await finished(copy);
      return rows;
    });
  }

  /**
   * The cast-in-the-database load: each batch is one COPY under a savepoint. PostgreSQL's input
   * functions cast the text; when a row fails (a value that does not cast, a string too long, a
   * NULL in a NOT NULL column), its error names the line and the column: the savepoint is rolled
   * back, the row is handed to `onReject` with the database's reason, and the rest of the batch
   * is copied again. Clean data costs one COPY per batch; each bad row one more.
   */
  private async copyRejecting(
    client: PoolClient,
    w: ChunkWrite,
    batches: AsyncIterable<RowBatch>,
    encoders: RowEncoder[],
  ): Promise<number> {
    const sql = `COPY ${quoteTable(w.table)} (${w.columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`;
    const copyLines = async (lines: string[], from: number, to: number): Promise<void> => {
      const copy = client.query(copyFrom(sql));
      let text = '';
      for (let i = from; i < to; i++) {
        text += lines[i];
        if (text.length > 1 << 20) {
          await write(copy, text);
          text = '';
        }
      }
      copy.end(text);
      await finished(copy);
    };
    /** Copies lines [from, to) again and again around each line the database refuses. */
    const segments = async (rowsOf: unknown[][], lines: string[]): Promise<number> => {
      let done = 0;
      const todo: [number, number][] = [[0, lines.length]];
      while (todo.length > 0) {
        const [from, to] = todo.pop()!;
        if (from >= to) continue;
        await client.query('SAVEPOINT ferry_batch');
        try {
          await copyLines(lines, from, to);
          await client.query('RELEASE SAVEPOINT ferry_batch');
          done += to - from;
        } catch (err) {
          const bad = badCopyLine(err);
          if (!bad || bad.line < 1 || bad.line > to - from) throw err;
          await client.query('ROLLBACK TO SAVEPOINT ferry_batch');
          const at = from + bad.line - 1;
          w.onReject!(rowsOf[at], bad.column, bad.reason);
          todo.push([at + 1, to], [from, at]);
        }
      }
      return done;
    };
    // Clean data: one COPY per group of batches (up to 25,000 rows or 8 MiB of text), streamed
    // while the next batch is parsed, under one savepoint. The group's rows and lines are kept until
    // it commits, so a refused row costs a rollback and the segment copies above, never a re-read.
    let rows = 0;
    let groupRows: unknown[][] = [];
    let groupLines: string[] = [];
    let groupBytes = 0;
    let copy: ReturnType<typeof copyFrom> | null = null;
    let copyError: unknown = null;
    const endGroup = async (): Promise<void> => {
      if (!copy) return;
      const c = copy;
      copy = null;
      if (!copyError) {
        c.end();
        await finished(c).catch((e) => {
          copyError ??= e;
        });
      }
      if (!copyError) {
        await client.query('RELEASE SAVEPOINT ferry_batch');
        rows += groupRows.length;
      } else {
        if (!badCopyLine(copyError)) throw copyError;
        await client.query('ROLLBACK TO SAVEPOINT ferry_batch');
        rows += await segments(groupRows, groupLines);
      }
      groupRows = [];
      groupLines = [];
      groupBytes = 0;
      copyError = null;
    };
    for await (const batch of batches) {
      if (!copy) {
        await client.query('SAVEPOINT ferry_batch');
        copy = client.query(copyFrom(sql));
        copy.on('error', (e: Error) => {
          copyError ??= e;
        });
      }
      let text = '';
      for (const row of batch.rows) {
        let line = encoders[0](row[0]);
        for (let i = 1; i < encoders.length; i++) line += `\t${encoders[i](row[i])}`;
        line += '\n';
        groupLines.push(line);
        groupRows.push(row);
        text += line;
      }
      groupBytes += text.length;
      if (!copyError) {
        await write(copy, text)?.catch((e) => {
          copyError ??= e;
        });
      }
      if (groupRows.length >= 25_000 || groupBytes >= 8 << 20) await endGroup();
    }
    await endGroup();
    return rows;
  }

  writeChunkRaw(w: ChunkWrite, format: string, data: Readable): Promise<number> {
    if (format !== 'postgres-binary' && format !== 'postgres-copydata')
      throw new Error(`PostgresWriter cannot consume ${format}`);
    const cols = w.columns.map((c) => quoteIdent(c.name)).join(', ');
    const written = this.inChunkTransaction(w, async (client) => {
      const sql = `COPY ${quoteTable(w.table)} (${cols}) FROM STDIN (FORMAT binary)`;
      const copy = client.query(format === 'postgres-copydata' ? copyInFrames(sql) : copyFrom(sql));
      await pipeline(data, copy);
      return copy.rowCount;
    });
    // When the transaction fails before the COPY consumed `data` (no connection, BEGIN or the marker
    // insert failed, chunk already committed), nobody reads the source stream: destroy it, or its
    // connection stays checked out mid-COPY for good (pool exhausted, close() never returns).
    return written.catch((err) => {
      if (!data.destroyed) data.destroy();
      throw err;
    });
  }

  private indexSql(index: IndexInfo, name: string, on: TableRef): string | undefined {
    if (index.dialect === 'postgres' && index.definition) {
      // Re-point the source's own definition (keeps method, opclasses, expressions, predicates).
      const m = /^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?.+? USING /.exec(index.definition);
      if (m) {
        return `CREATE ${m[1] ?? ''}INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${quoteTable(on)} USING ${index.definition.slice(m[0].length)}`;
      }
    }
    if (!index.columns) return undefined;
    return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${quoteTable(on)} (${index.columns.map(quoteIdent).join(', ')})`;
  }

  private async buildKeys(on: TableRef, table: TargetTable, prefix: string): Promise<string[]> {
    if (table.primaryKey.length > 0) {
      const has = await this.session.query(
        `SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'`,
        [quoteTable(on)],
      );
      if (has.length === 0) {
        await this.session.query(
          `ALTER TABLE ${quoteTable(on)} ADD CONSTRAINT ${quoteIdent(pgIdent(`${prefix}_pkey`))} PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')})`,
        );
      }
    }
    const built: string[] = [];
    for (const [i, index] of table.indexes.entries()) {
      const name = pgIdent(`${prefix}_i${i}`);
      const sql = this.indexSql(index, name, on);
      if (!sql) continue;
      await this.session.query(sql);
      built.push(name);
    }
    return built;
  }

  async swapIn(staging: TableRef, final: TargetTable, runId: string, stream: string): Promise<void> {
    if (await this.streamFinished(runId, stream)) return;
    // Indexes are built on the staging table before the swap, so the swap itself is instant.
    const built = await this.buildKeys(staging, final, staging.name);
    const client = await this.session.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query(`DROP TABLE IF EXISTS ${quoteTable(final.ref)}`);
      await client.query(`ALTER TABLE ${quoteTable(staging)} RENAME TO ${quoteIdent(final.ref.name)}`);
      if (final.primaryKey.length > 0) {
        await client.query(
          `ALTER TABLE ${quoteTable(final.ref)} RENAME CONSTRAINT ${quoteIdent(pgIdent(`${staging.name}_pkey`))} TO ${quoteIdent(pgIdent(`${final.ref.name}_pkey`))}`,
        );
      }
      let bi = 0;
      for (const [i, index] of final.indexes.entries()) {
        const name = pgIdent(`${staging.name}_i${i}`);
        if (built[bi] !== name) continue;
        bi++;
        const schema = final.ref.schema ? `${quoteIdent(final.ref.schema)}.` : '';
        await client.query(`ALTER INDEX ${schema}${quoteIdent(name)} RENAME TO ${quoteIdent(index.name)}`);
      }
      await client.query(`INSERT INTO ${LEDGER} (run_id, stream, chunk_id) VALUES ($1, $2, $3)`, [
        runId,
        stream,
        SWAPPED,
      ]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw classifyPgError(err, {
        stream,
        hint: 'if other objects (views, foreign keys) depend on the target table, drop them first or use mode: append',
      });
    } finally {
      client.release(broken);
    }
  }

  async finishAppend(final: TargetTable, runId: string, stream: string, createdByRun: boolean): Promise<void> {
    if (createdByRun) {
      for (const index of final.indexes) {
        const sql = this.indexSql(index, index.name, final.ref);
        if (sql) await this.session.query(sql);
      }
    }
    await this.session.query(
      `INSERT INTO ${LEDGER} (run_id, stream, chunk_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [runId, stream, DONE],
    );
  }
}
