import { PassThrough, type Readable } from 'node:stream';
import type { PoolConnection } from 'mysql2';
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
import { TerminalError } from '../../core/errors.js';
import type { TableRef } from '../../core/identifiers.js';
import { classifyMysqlError } from './mysql-errors.js';
import { type MysqlSession, run } from './mysql-session.js';
import { quoteIdent, quoteTable } from './mysql-sql.js';
import { mysqlTypeFor } from './mysql-types.js';
import { escapeBytes, escapeText, loadEncoderFor, textForMysql } from './mysql-values.js';

const SWAPPED = '__swapped__';
const DONE = '__done__';
/** Bytes per packet of LOAD DATA LOCAL data (a packet must stay under 16 MB). */
const PACKET_BYTES = 1 << 20;
/** Socket write buffer above which we wait for it to drain (memory stays bounded). */
const SOCKET_HIGH_WATER = 8 << 20;

interface LoadResult {
  affectedRows: number;
  warningStatus: number;
}

function isBitType(native: string): boolean {
  return /^bit\b/i.test(native.trim());
}

function isYearType(native: string): boolean {
  return /^year\b/i.test(native.trim());
}

/** YEAR from text: '0' is read as the two-digit year 2000; the year 0 must be spelled '0000'. */
const yearText = (v: unknown): string => (Number(v) === 0 ? '0000' : String(v));

/**
 * Loads with `LOAD DATA LOCAL INFILE` fed from a stream, inside one transaction per chunk with the
 * chunk's marker in `_ferry_chunks` (InnoDB: the load is transactional). LOCAL makes the server
 * turn errors into warnings, so every load's warnings are read back and any warning, or a row
 * count that differs from what was sent, fails the chunk: nothing is skipped silently. When the
 * server has local_infile off, multi-row INSERTs are used instead (slower; the log says so).
 */
export class MysqlWriter implements Writer {
  private localInfile: Promise<boolean> | undefined;

  constructor(private readonly session: MysqlSession) {}

  private get ledger(): string {
    return `${quoteIdent(this.session.database)}.\`_ferry_chunks\``;
  }

  mapType(
    column: ColumnInfo,
    sourceDialect: string,
    context: { key: boolean; keyParts?: number; keyReserve?: number } = { key: false },
  ): TypeMapping {
    if (sourceDialect === 'mysql' && column.note === undefined) return { nativeType: column.nativeType };
    const m = mysqlTypeFor(column.logical, context);
    return {
      nativeType: m.type,
      lossy: [column.note, m.lossy].filter(Boolean).join('; ') || undefined,
      ...(m.logical ? { logical: m.logical } : {}),
    };
  }

  async ensureChunkLedger(): Promise<void> {
    await this.session.query(
      `CREATE TABLE IF NOT EXISTS ${this.ledger} (
         run_id VARCHAR(64) NOT NULL, stream VARCHAR(512) NOT NULL, chunk_id VARCHAR(64) NOT NULL,
         \`rows\` BIGINT NOT NULL DEFAULT 0, rejects BIGINT NOT NULL DEFAULT 0,
         committed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
         PRIMARY KEY (run_id, stream, chunk_id)
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    );
  }

  async committedChunks(runId: string, stream: string): Promise<Map<string, ChunkMarker>> {
    const rows = await this.session.query<{ chunk_id: string; rows: string | number; rejects: string | number }>(
      `SELECT chunk_id, \`rows\`, rejects FROM ${this.ledger} WHERE run_id = ? AND stream = ?`,
      [runId, stream],
    );
    return new Map(rows.map((r) => [r.chunk_id, { rows: Number(r.rows), rejects: Number(r.rejects) }]));
  }

  async forgetRuns(stream: string, keepRunId: string): Promise<void> {
    await this.session.query(`DELETE FROM ${this.ledger} WHERE stream = ? AND run_id <> ?`, [stream, keepRunId]);
  }

  async streamFinished(runId: string, stream: string): Promise<boolean> {
    const rows = await this.session.query(
      `SELECT 1 FROM ${this.ledger} WHERE run_id = ? AND stream = ? AND chunk_id IN (?, ?)`,
      [runId, stream, SWAPPED, DONE],
    );
    return rows.length > 0;
  }

  async tableExists(ref: TableRef): Promise<boolean> {
    const rows = await this.session.query(
      'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [ref.schema ?? this.session.database, ref.name],
    );
    return rows.length > 0;
  }

  async existingColumns(ref: TableRef): Promise<string[]> {
    const rows = await this.session.query<{ n: string }>(
      'SELECT COLUMN_NAME AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [ref.schema ?? this.session.database, ref.name],
    );
    return rows.map((r) => r.n);
  }

  async createTable(table: TargetTable, options: { primaryKey: boolean; ifNotExists: boolean }): Promise<void> {
    const defs = table.columns.map((c) => `${quoteIdent(c.name)} ${c.nativeType}${c.nullable ? ' NULL' : ' NOT NULL'}`);
    if (options.primaryKey && table.primaryKey.length > 0) {
      defs.push(`PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')})`);
    }
    if (table.ref.schema) await this.session.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(table.ref.schema)}`);
    // Binary collation: text keys compare exactly as in PostgreSQL and SQLite ('a' <> 'A', 'a' <> 'a ').
    await this.session.query(
      `CREATE TABLE ${options.ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteTable(table.ref)} (\n  ${defs.join(',\n  ')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    );
  }

  async dropTable(ref: TableRef): Promise<void> {
    await this.session.query(`DROP TABLE IF EXISTS ${quoteTable(ref)}`);
  }

  private useLoadData(): Promise<boolean> {
    this.localInfile ??= this.session
      .query<{ v: number | string }>('SELECT @@GLOBAL.local_infile AS v')
      .then((r) => Number(r[0].v) === 1);
    return this.localInfile;
  }

  async writeChunk(w: ChunkWrite, batches: AsyncIterable<RowBatch>): Promise<number> {
    const loadData = await this.useLoadData();
    return this.inChunkTransaction(w, (conn) =>
      !loadData
        ? this.insert(conn, w, batches)
        : w.onReject
          ? this.loadRejecting(conn, w, batches)
          : this.load(conn, w, batches),
    );
  }

  /** LOAD DATA text needs local_infile on the server; without it chunks are INSERTs of rows. */
  acceptsRaw(format: string): Promise<boolean> {
    return format === 'mysql-text' ? this.useLoadData() : Promise.resolve(false);
  }

  /**
   * A chunk read from a MySQL source as LOAD DATA text already (`mysql-text`, see
   * MysqlReader.readRaw): the bytes go to the server as they came, with no value decoded or encoded
   * in between. The source's row count must equal the rows stored, with no warning.
   */
  async writeChunkRaw(w: ChunkWrite, format: string, data: Readable): Promise<number> {
    if (format !== 'mysql-text') throw new Error(`MysqlWriter cannot consume ${format}`);
    const written = this.inChunkTransaction(w, async (conn) => {
      const [res] = await this.loadRaw(conn, w, rawPieces(data));
      const rows = (data as Readable & { rows?: number }).rows;
      if (rows === undefined) throw new Error('the source stream ended without its row count');
      if (res.warningStatus > 0 || res.affectedRows !== rows) await this.failLoad(conn, w, res, rows);
      return rows;
    });
    // The transaction failed before the load read `data` (no connection, the marker insert
    // failed): nobody reads the source stream, so destroy it, or its connection stays mid-result.
    return written.catch((err) => {
      if (!data.destroyed) data.destroy();
      throw err;
    });
  }

  private async inChunkTransaction(w: ChunkWrite, load: (conn: PoolConnection) => Promise<number>): Promise<number> {
    const ctx = { stream: w.stream, chunk: w.chunkId };
    const conn = await this.session.connect();
    let broken = false;
    try {
      await run(conn, 'START TRANSACTION');
      await run(conn, `INSERT INTO ${this.ledger} (run_id, stream, chunk_id) VALUES (?, ?, ?)`, [
        w.runId,
        w.stream,
        w.chunkId,
      ]);
      const rows = await load(conn);
      await run(
        conn,
        `UPDATE ${this.ledger} SET \`rows\` = ?, rejects = ? WHERE run_id = ? AND stream = ? AND chunk_id = ?`,
        [rows, w.rejects?.() ?? 0, w.runId, w.stream, w.chunkId],
      );
      await run(conn, 'COMMIT');
      return rows;
    } catch (err) {
      await run(conn, 'ROLLBACK').catch(() => {
        broken = true;
      });
      throw classifyMysqlError(err, ctx);
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  /** Encodes rows as LOAD DATA text (bytes columns raw), in pieces of at most PACKET_BYTES. */
  private encoder(columns: readonly TargetColumn[]) {
    const enc = columns.map((c) => {
      if (c.fromText) return textForMysql(c.logical);
      const e = loadEncoderFor(c.logical);
      if (isYearType(c.nativeType)) return yearText;
      return isBitType(c.nativeType)
        ? (v: unknown) => String(Buffer.isBuffer(v) ? BigInt(`0x${v.toString('hex') || '0'}`) : v)
        : e;
    });
    return (rows: unknown[][], out: Buffer[]) => {
      let text = '';
      const flush = () => {
        if (text) out.push(Buffer.from(text, 'utf8'));
        text = '';
      };
      for (const row of rows) {
        for (let i = 0; i < enc.length; i++) {
          if (i > 0) text += '\t';
          const v = row[i];
          if (v === null || v === undefined) {
            text += '\\N';
            continue;
          }
          const x = enc[i](v);
          if (typeof x === 'string') text += escapeText(x);
          else {
            flush();
            out.push(escapeBytes(x));
          }
        }
        text += '\n';
        if (text.length > PACKET_BYTES / 4) flush();
      }
      flush();
    };
  }

  /**
   * The cast-in-the-database load: each batch is one LOAD DATA under a savepoint. LOCAL makes the
   * server turn a value it cannot cast into a warning that names the row and column: the
   * savepoint is rolled back, those rows go to `onReject` with the server's message, and the rest
   * of the batch is loaded again. Clean data costs one LOAD DATA per batch.
   */
  private async loadRejecting(conn: PoolConnection, w: ChunkWrite, batches: AsyncIterable<RowBatch>): Promise<number> {
    // A zero date ('0000-00-00', '2023-00-10') in a file is refused as PostgreSQL would refuse it
    // (and as verify judges it), not stored as MySQL's zero date.
    const [{ mode }] = (await run(conn, 'SELECT @@SESSION.sql_mode AS mode')) as { mode: string }[];
    await run(conn, `SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_ZERO_DATE,NO_ZERO_IN_DATE')`);
    try {
      return await this.loadRejectingBatches(conn, w, batches);
    } finally {
      await run(conn, 'SET SESSION sql_mode = ?', [mode]).catch(() => {});
    }
  }

  private async loadRejectingBatches(
    conn: PoolConnection,
    w: ChunkWrite,
    batches: AsyncIterable<RowBatch>,
  ): Promise<number> {
    let rows = 0;
    for await (const batch of batches) {
      let todo = batch.rows;
      while (todo.length > 0) {
        await run(conn, 'SAVEPOINT ferry_batch');
        const one = async function* () {
          yield { rows: todo, bytes: 0 };
        };
        const res = await this.loadOnce(conn, w, one());
        if (res.warningStatus === 0 && res.affectedRows === todo.length) {
          await run(conn, 'RELEASE SAVEPOINT ferry_batch');
          rows += todo.length;
          break;
        }
        const warnings = (await run(conn, 'SHOW WARNINGS')) as { Message: string }[];
        await run(conn, 'ROLLBACK TO SAVEPOINT ferry_batch');
        const bad = new Map<number, { column: string | null; reason: string }>();
        for (const x of warnings) {
          const m = /\bat row (\d+)|^Row (\d+)\b/i.exec(x.Message);
          if (!m) continue;
          const at = Number(m[1] ?? m[2]) - 1;
          if (at < 0 || at >= todo.length || bad.has(at)) continue;
          // The column is the last quoted name before "at row N" (`db`.`t`.`amount`, 'name').
          const col = /[`']([^`']+)[`']\s+at row \d+/i.exec(x.Message);
          bad.set(at, { column: col?.[1] ?? null, reason: x.Message });
        }
        if (bad.size === 0) {
          const text = warnings
            .map((x) => x.Message)
            .slice(0, 5)
            .join('; ');
          throw new TerminalError(
            `LOAD DATA stored ${res.affectedRows} of ${todo.length} rows with ${res.warningStatus} warning(s)${text ? `: ${text}` : ''}`,
            { stream: w.stream, chunk: w.chunkId, hint: 'a value does not fit its target column; see the warning' },
          );
        }
        for (const [at, b] of [...bad].sort((x, y) => x[0] - y[0])) w.onReject!(todo[at], b.column, b.reason);
        todo = todo.filter((_r, i) => !bad.has(i));
      }
    }
    return rows;
  }

  /** One LOAD DATA of the rows given, resolving with the server's result (warnings not judged). */
  private loadOnce(conn: PoolConnection, w: ChunkWrite, batches: AsyncIterable<RowBatch>): Promise<LoadResult> {
    return this.loadRaw(conn, w, this.encoded(w, batches).pieces).then(([res]) => res);
  }

  private load(conn: PoolConnection, w: ChunkWrite, batches: AsyncIterable<RowBatch>): Promise<number> {
    const enc = this.encoded(w, batches);
    return this.loadRaw(conn, w, enc.pieces).then(async ([res]) => {
      const rows = enc.rows();
      if (res.warningStatus > 0 || res.affectedRows !== rows) await this.failLoad(conn, w, res, rows);
      return rows;
    });
  }

  /** The batches as LOAD DATA text, and how many rows they held once read. */
  private encoded(w: ChunkWrite, batches: AsyncIterable<RowBatch>) {
    const encode = this.encoder(w.columns);
    let rows = 0;
    async function* pieces(): AsyncIterable<Buffer> {
      for await (const batch of batches) {
        const parts: Buffer[] = [];
        encode(batch.rows, parts);
        rows += batch.rows.length;
        yield* parts;
      }
    }
    return { pieces: pieces(), rows: () => rows };
  }

  /** Throws what LOAD DATA got wrong: rows stored against rows sent, and the first warnings. */
  private async failLoad(conn: PoolConnection, w: ChunkWrite, res: LoadResult, rows: number): Promise<never> {
    const warnings = (await new Promise<unknown[]>((resolve) =>
      conn.query('SHOW WARNINGS LIMIT 5', (_e: unknown, r: unknown) => resolve((r as unknown[]) ?? [])),
    )) as { Message?: string }[];
    const text = warnings
      .map((x) => x.Message)
      .filter(Boolean)
      .join('; ');
    throw new TerminalError(
      `LOAD DATA stored ${res.affectedRows} of ${rows} rows with ${res.warningStatus} warning(s)${text ? `: ${text}` : ''}`,
      { stream: w.stream, chunk: w.chunkId, hint: 'a value does not fit its target column; see the warning' },
    );
  }

  /** One LOAD DATA of the LOAD DATA text given, in pieces; resolves with the server's result. */
  private loadRaw(conn: PoolConnection, w: ChunkWrite, pieces: AsyncIterable<Buffer>): Promise<[LoadResult, number]> {
    const data = new PassThrough({ highWaterMark: PACKET_BYTES });
    const targets = w.columns.map((c, i) => (isBitType(c.nativeType) ? `@ferry_v${i}` : quoteIdent(c.name)));
    const sets = w.columns
      .map((c, i) => (isBitType(c.nativeType) ? `${quoteIdent(c.name)} = CAST(@ferry_v${i} AS UNSIGNED)` : null))
      .filter(Boolean);
    const sql = `LOAD DATA LOCAL INFILE 'ferry-${w.chunkId}' INTO TABLE ${quoteTable(w.table)} CHARACTER SET binary
      FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})${sets.length ? ` SET ${sets.join(', ')}` : ''}`;
    const result = new Promise<LoadResult>((resolve, reject) => {
      conn.query({ sql, infileStreamFactory: () => data } as never, (err: unknown, res: unknown) =>
        err ? reject(err) : resolve(res as LoadResult),
      );
    });
    result.catch(() => {});
    const socket = (conn as unknown as { stream: NodeJS.WritableStream & { writableLength: number } }).stream;
    const feed = async (): Promise<number> => {
      try {
        for await (const p of pieces) {
          for (let off = 0; off < p.length; off += PACKET_BYTES) {
            const piece = off === 0 && p.length <= PACKET_BYTES ? p : p.subarray(off, off + PACKET_BYTES);
            if (!data.write(piece)) await Promise.race([once(data, 'drain'), result]);
          }
          // The driver writes each piece to the socket at once: wait while the socket holds too much.
          if (socket.writableLength > SOCKET_HIGH_WATER) await Promise.race([once(socket, 'drain'), result]);
        }
      } catch (err) {
        // The rows (a reject over max_rejects, a source error) failed before the load was over:
        // end the file (complete rows only: a batch is written whole) and let the load finish; the
        // chunk's transaction is rolled back. Destroying the stream instead emits 'error' with no
        // listener when the server has not asked for the file yet (an uncaught exception), and the
        // driver then waits on a dead stream until the server's net_read_timeout.
        data.end();
        await result.catch(() => {});
        throw err;
      }
      data.end();
      return 0;
    };
    return feed().then(async (n): Promise<[LoadResult, number]> => [await result, n]);
  }

  /** Multi-row INSERTs (local_infile off): statements of up to 1000 rows or about 4 MB. */
  private async insert(conn: PoolConnection, w: ChunkWrite, batches: AsyncIterable<RowBatch>): Promise<number> {
    const cols = w.columns.map((c) => quoteIdent(c.name)).join(', ');
    const enc = w.columns.map((c) => (isYearType(c.nativeType) ? yearText : loadEncoderFor(c.logical)));
    let rows = 0;
    for await (const batch of batches) {
      let pending: unknown[][] = [];
      let size = 0;
      const flush = async () => {
        if (pending.length === 0) return;
        await run(conn, `INSERT INTO ${quoteTable(w.table)} (${cols}) VALUES ?`, [pending]);
        pending = [];
        size = 0;
      };
      for (const row of batch.rows) {
        const values = row.map((v, i) => (v === null || v === undefined ? null : enc[i](v)));
        for (const v of values) size += v === null ? 1 : v.length;
        pending.push(values);
        if (pending.length >= 1000 || size > 4 << 20) await flush();
      }
      await flush();
      rows += batch.rows.length;
    }
    return rows;
  }

  private async buildKeys(on: TableRef, table: TargetTable): Promise<void> {
    const existing = await this.session.query<{ n: string }>(
      'SELECT DISTINCT INDEX_NAME AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [on.schema ?? this.session.database, on.name],
    );
    const have = new Set(existing.map((r) => r.n));
    const adds: string[] = [];
    if (table.primaryKey.length > 0 && !have.has('PRIMARY')) {
      adds.push(`ADD PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')})`);
    }
    for (const ix of table.indexes) {
      const sql = indexClause(ix);
      if (sql && !have.has(ix.name)) adds.push(sql);
    }
    // One ALTER: InnoDB rebuilds the table once for the key and all indexes.
    if (adds.length) await this.session.query(`ALTER TABLE ${quoteTable(on)} ${adds.join(', ')}`);
  }

  /**
   * MySQL DDL commits implicitly, so the swap cannot share a transaction with the marker. It is
   * made safe by order: the staging table is tagged with the run id (table comment), swapped in
   * with one atomic RENAME TABLE, then the marker is written; a resume that finds the staging table
   * gone and the target tagged with this run knows the swap happened and only writes the marker.
   */
  async swapIn(staging: TableRef, final: TargetTable, runId: string, stream: string): Promise<void> {
    if (await this.streamFinished(runId, stream)) return;
    const tag = `ferry:${runId}`;
    if (await this.tableExists(staging)) {
      await this.buildKeys(staging, final);
      await this.session.query(`ALTER TABLE ${quoteTable(staging)} COMMENT = ?`, [tag]);
      const old: TableRef = { schema: final.ref.schema, name: `${staging.name}_old` };
      if (await this.tableExists(final.ref)) {
        await this.session.query(
          `RENAME TABLE ${quoteTable(final.ref)} TO ${quoteTable(old)}, ${quoteTable(staging)} TO ${quoteTable(final.ref)}`,
        );
      } else {
        await this.session.query(`RENAME TABLE ${quoteTable(staging)} TO ${quoteTable(final.ref)}`);
      }
    } else if ((await this.tableComment(final.ref)) !== tag) {
      throw new TerminalError(
        `staging table ${quoteTable(staging)} is gone and the target was not swapped by this run`,
        {
          stream,
          hint: 'rerun with --fresh to start the stream over',
        },
      );
    }
    await this.session.query(`INSERT IGNORE INTO ${this.ledger} (run_id, stream, chunk_id) VALUES (?, ?, ?)`, [
      runId,
      stream,
      SWAPPED,
    ]);
    await this.session.query(
      `DROP TABLE IF EXISTS ${quoteTable({ schema: final.ref.schema, name: `${staging.name}_old` })}`,
    );
  }

  private async tableComment(ref: TableRef): Promise<string | null> {
    const rows = await this.session.query<{ c: string }>(
      'SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [ref.schema ?? this.session.database, ref.name],
    );
    return rows[0]?.c ?? null;
  }

  async finishAppend(final: TargetTable, runId: string, stream: string, createdByRun: boolean): Promise<void> {
    if (createdByRun) await this.buildKeys(final.ref, { ...final, primaryKey: [] });
    await this.session.query(`INSERT IGNORE INTO ${this.ledger} (run_id, stream, chunk_id) VALUES (?, ?, ?)`, [
      runId,
      stream,
      DONE,
    ]);
  }
}

function indexClause(ix: IndexInfo): string | undefined {
  if (!ix.columns) return undefined;
  return `ADD ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(ix.name.slice(0, 64))} (${ix.columns.map(quoteIdent).join(', ')})`;
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

/** A raw source stream's chunks; a source failure mid-stream surfaces here and fails the load. */
async function* rawPieces(data: Readable): AsyncIterable<Buffer> {
  for await (const chunk of data) yield chunk as Buffer;
}
