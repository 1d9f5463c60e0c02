import type { ColumnInfo, IndexInfo, Introspector, KeyRange, KeyTuple, TableInfo } from '../../core/connector.js';
import { ConnectionError, TerminalError } from '../../core/errors.js';
import type { TableRef } from '../../core/identifiers.js';
import type { SqliteSession } from './sqlite-session.js';
import { quoteIdent, quoteTable, rangeWhere } from './sqlite-sql.js';
import { sqliteLogicalFor } from './sqlite-types.js';
import { decoderFor, type SqliteValue } from './sqlite-values.js';

interface PragmaColumn {
  name: string;
  type: string;
  notnull: bigint;
  dflt_value: string | null;
  pk: bigint;
}

export class SqliteIntrospector implements Introspector {
  constructor(private readonly session: SqliteSession) {}

  async ping(): Promise<void> {
    if (!this.session.exists()) return;
    try {
      // Reads the file header and schema: a file that is not a database fails here, not mid-run.
      this.session.db.prepare('SELECT count(*) FROM sqlite_schema').get();
    } catch (err) {
      throw new ConnectionError(`cannot read SQLite database ${this.session.file}: ${(err as Error).message}`, {
        hint: 'check that the URL points to an SQLite database file',
      });
    }
  }

  async listTables(): Promise<TableRef[]> {
    if (!this.session.exists()) return [];
    const rows = this.session.db
      .prepare(
        `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
           AND name NOT LIKE '\\_ferry\\_%' ESCAPE '\\' ORDER BY name`,
      )
      .all() as { name: string }[];
    return rows.map((r) => ({ schema: null, name: r.name }));
  }

  async describe(ref: TableRef): Promise<TableInfo> {
    const db = this.session.db;
    const cols = db.prepare(`PRAGMA table_info(${quoteIdent(ref.name)})`).all() as PragmaColumn[];
    if (cols.length === 0) throw new TerminalError(`table ${ref.name} does not exist in ${this.session.file}`);
    const columns: ColumnInfo[] = cols.map((c) => {
      const { logical, note } = sqliteLogicalFor(c.type);
      return {
        name: c.name,
        nativeType: c.type || '',
        logical,
        // SQLite lets a non-INTEGER primary key hold NULLs unless NOT NULL is declared.
        nullable: c.notnull === 0n,
        default: c.dflt_value,
        note,
      };
    });
    const primaryKey = cols
      .filter((c) => c.pk > 0n)
      .sort((a, b) => Number(a.pk - b.pk))
      .map((c) => c.name);
    const indexes: IndexInfo[] = [];
    const list = db.prepare(`PRAGMA index_list(${quoteIdent(ref.name)})`).all() as {
      name: string;
      unique: bigint;
      origin: string;
      partial: bigint;
    }[];
    for (const ix of list) {
      if (ix.origin === 'pk') continue;
      const info = db.prepare(`PRAGMA index_info(${quoteIdent(ix.name)})`).all() as { name: string | null }[];
      const plain = ix.partial === 0n && info.every((i) => i.name !== null);
      const def = db.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`).get(ix.name) as
        | { sql: string | null }
        | undefined;
      indexes.push({
        name: ix.name,
        unique: ix.unique === 1n,
        columns: plain ? info.map((i) => i.name as string) : null,
        definition: def?.sql ?? null,
        dialect: 'sqlite',
      });
    }
    const n = db.prepare(`SELECT count(*) AS n FROM ${quoteTable(ref)}`).get() as { n: bigint };
    return { ref, columns, primaryKey, indexes, estimatedRows: Number(n.n) };
  }

  async count(ref: TableRef, key: readonly ColumnInfo[], range: KeyRange | null): Promise<number> {
    const where = rangeWhere(key, range);
    const row = this.session.db
      .prepare(`SELECT count(*) AS n FROM ${quoteTable(ref)}${where.sql}`)
      .get(...where.params) as {
      n: bigint;
    };
    return Number(row.n);
  }

  /** Exact boundaries in one pass over the key (SQLite reads its b-tree in order; no sort). */
  async chunkBoundaries(ref: TableRef, key: readonly ColumnInfo[], chunkRows: number): Promise<KeyTuple[]> {
    if (key.length === 0) return [];
    const cols = key.map((c) => quoteIdent(c.name)).join(', ');
    const stmt = this.session.db
      .prepare(
        `SELECT ${cols} FROM (SELECT ${cols}, row_number() OVER (ORDER BY ${cols}) AS rn FROM ${quoteTable(ref)})
          WHERE rn % ? = 0 ORDER BY ${cols}`,
      )
      .raw(true);
    const decoders = key.map((c) => decoderFor(c.logical));
    return (stmt.all(BigInt(chunkRows)) as SqliteValue[][]).map((r) => r.map((v, i) => decoders[i](v)));
  }
}
