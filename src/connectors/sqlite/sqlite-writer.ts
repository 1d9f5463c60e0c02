import type {
  ChunkMarker,
  ChunkWrite,
  ColumnInfo,
  IndexInfo,
  RowBatch,
  TargetTable,
  TypeMapping,
  Writer,
} from '../../core/connector.js';
import type { TableRef } from '../../core/identifiers.js';
import { classifySqliteError, type SqliteSession } from './sqlite-session.js';
import { quoteIdent, quoteTable } from './sqlite-sql.js';
import { sqliteTypeFor } from './sqlite-types.js';
import { encoderFor, type SqliteValue } from './sqlite-values.js';

const LEDGER = '_ferry_chunks';
const SWAPPED = '__swapped__';
const DONE = '__done__';
/** Rows per multi-row INSERT statement (SQLite allows 32766 parameters per statement). */
const ROWS_PER_INSERT = 64;

/**
 * Writes with prepared multi-row INSERTs in one transaction per chunk, the chunk's marker row
 * inserted first. better-sqlite3 is synchronous and the file has one writer: chunk transactions
 * are serialised by a queue (the engine also runs one writer at a time, per the capabilities).
 */
export class SqliteWriter implements Writer {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly session: SqliteSession) {}

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  mapType(column: ColumnInfo, sourceDialect: string): TypeMapping {
    if (sourceDialect === 'sqlite' && column.note === undefined) return { nativeType: column.nativeType };
    const nativeType = sqliteTypeFor(column.logical);
    let lossy = column.note;
    if (column.logical.kind === 'text' && column.logical.length !== undefined) {
      lossy = `${lossy ? `${lossy}; ` : ''}SQLite does not enforce the length ${column.logical.length}`;
    }
    return { nativeType, lossy };
  }

  async ensureChunkLedger(): Promise<void> {
    this.session.db.exec(
      `CREATE TABLE IF NOT EXISTS ${LEDGER} (run_id TEXT NOT NULL, stream TEXT NOT NULL, chunk_id TEXT NOT NULL,
         rows INTEGER NOT NULL DEFAULT 0, rejects INTEGER NOT NULL DEFAULT 0, committed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
         PRIMARY KEY (run_id, stream, chunk_id))`,
    );
    // Ledgers created by ferry 0.1 have no reject count.
    const cols = this.session.db.prepare(`PRAGMA table_info(${LEDGER})`).all() as { name: string }[];
    if (!cols.some((c) => c.name === 'rejects')) {
      this.session.db.exec(`ALTER TABLE ${LEDGER} ADD COLUMN rejects INTEGER NOT NULL DEFAULT 0`);
    }
  }

  async committedChunks(runId: string, stream: string): Promise<Map<string, ChunkMarker>> {
    if (!this.session.exists()) return new Map();
    const rows = this.session.db
      .prepare(`SELECT chunk_id, rows, rejects FROM ${LEDGER} WHERE run_id = ? AND stream = ?`)
      .all(runId, stream) as { chunk_id: string; rows: bigint; rejects: bigint }[];
    return new Map(rows.map((r) => [r.chunk_id, { rows: Number(r.rows), rejects: Number(r.rejects) }]));
  }

  async forgetRuns(stream: string, keepRunId: string): Promise<void> {
    await this.exclusive(async () => {
      this.session.db.prepare(`DELETE FROM ${LEDGER} WHERE stream = ? AND run_id <> ?`).run(stream, keepRunId);
    });
  }

  async streamFinished(runId: string, stream: string): Promise<boolean> {
    if (!this.session.exists()) return false;
    const row = this.session.db
      .prepare(`SELECT 1 FROM ${LEDGER} WHERE run_id = ? AND stream = ? AND chunk_id IN (?, ?)`)
      .get(runId, stream, SWAPPED, DONE);
    return row !== undefined;
  }

  async tableExists(ref: TableRef): Promise<boolean> {
    if (!this.session.exists()) return false;
    return (
      this.session.db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(ref.name) !==
      undefined
    );
  }

  async existingColumns(ref: TableRef): Promise<string[]> {
    return (this.session.db.prepare(`PRAGMA table_info(${quoteIdent(ref.name)})`).all() as { name: string }[]).map(
      (c) => c.name,
    );
  }

  /** SQLite cannot add a primary key to an existing table: the key is always created here. */
  async createTable(table: TargetTable, options: { primaryKey: boolean; ifNotExists: boolean }): Promise<void> {
    const defs = table.columns.map((c) => `${quoteIdent(c.name)} ${c.nativeType}${c.nullable ? '' : ' NOT NULL'}`);
    if (table.primaryKey.length > 0) defs.push(`PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')})`);
    await this.exclusive(async () => {
      this.session.db.exec(
        `CREATE TABLE ${options.ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteTable(table.ref)} (\n  ${defs.join(',\n  ')}\n)`,
      );
    });
  }

  async dropTable(ref: TableRef): Promise<void> {
    await this.exclusive(async () => {
      this.session.db.exec(`DROP TABLE IF EXISTS ${quoteTable(ref)}`);
    });
  }

  writeChunk(w: ChunkWrite, batches: AsyncIterable<RowBatch>): Promise<number> {
    return this.exclusive(async () => {
      const db = this.session.db;
      const ctx = { stream: w.stream, chunk: w.chunkId };
      const cols = w.columns.map((c) => quoteIdent(c.name)).join(', ');
      const one = `(${w.columns.map(() => '?').join(', ')})`;
      const table = quoteTable(w.table);
      const many = db.prepare(`INSERT INTO ${table} (${cols}) VALUES ${Array(ROWS_PER_INSERT).fill(one).join(', ')}`);
      const single = db.prepare(`INSERT INTO ${table} (${cols}) VALUES ${one}`);
      const encoders = w.columns.map((c) => encoderFor(c.logical));
      const n = encoders.length;
      const encodeInto = (row: unknown[], out: SqliteValue[]) => {
        for (let i = 0; i < n; i++) out.push(encoders[i](row[i]));
      };
      let rows = 0;
      db.exec('BEGIN IMMEDIATE');
      try {
        db.prepare(`INSERT INTO ${LEDGER} (run_id, stream, chunk_id) VALUES (?, ?, ?)`).run(
          w.runId,
          w.stream,
          w.chunkId,
        );
        for await (const batch of batches) {
          const list = batch.rows;
          let i = 0;
          for (; i + ROWS_PER_INSERT <= list.length; i += ROWS_PER_INSERT) {
            const params: SqliteValue[] = [];
            for (let j = i; j < i + ROWS_PER_INSERT; j++) encodeInto(list[j], params);
            many.run(params);
          }
          for (; i < list.length; i++) {
            const params: SqliteValue[] = [];
            encodeInto(list[i], params);
            single.run(params);
          }
          rows += list.length;
        }
        db.prepare(`UPDATE ${LEDGER} SET rows = ?, rejects = ? WHERE run_id = ? AND stream = ? AND chunk_id = ?`).run(
          rows,
          w.rejects?.() ?? 0,
          w.runId,
          w.stream,
          w.chunkId,
        );
        db.exec('COMMIT');
        return rows;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw classifySqliteError(err, ctx);
      }
    });
  }

  private indexSql(index: IndexInfo, on: TableRef): string | undefined {
    if (!index.columns) return undefined;
    return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quoteIdent(index.name)} ON ${quoteTable(on)} (${index.columns.map(quoteIdent).join(', ')})`;
  }

  async swapIn(staging: TableRef, final: TargetTable, runId: string, stream: string): Promise<void> {
    if (await this.streamFinished(runId, stream)) return;
    await this.exclusive(async () => {
      const db = this.session.db;
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(`DROP TABLE IF EXISTS ${quoteTable(final.ref)}`);
        db.exec(`ALTER TABLE ${quoteTable(staging)} RENAME TO ${quoteIdent(final.ref.name)}`);
        for (const index of final.indexes) {
          const sql = this.indexSql(index, final.ref);
          if (sql) db.exec(sql);
        }
        db.prepare(`INSERT INTO ${LEDGER} (run_id, stream, chunk_id) VALUES (?, ?, ?)`).run(runId, stream, SWAPPED);
        db.exec('COMMIT');
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw classifySqliteError(err, { stream });
      }
    });
  }

  async finishAppend(final: TargetTable, runId: string, stream: string, createdByRun: boolean): Promise<void> {
    await this.exclusive(async () => {
      const db = this.session.db;
      if (createdByRun) {
        for (const index of final.indexes) {
          const sql = this.indexSql(index, final.ref);
          if (sql) db.exec(sql);
        }
      }
      db.prepare(`INSERT OR IGNORE INTO ${LEDGER} (run_id, stream, chunk_id) VALUES (?, ?, ?)`).run(
        runId,
        stream,
        DONE,
      );
    });
  }
}
