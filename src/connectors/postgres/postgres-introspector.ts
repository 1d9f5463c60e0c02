import type {
  ColumnInfo,
  IndexInfo,
  Introspector,
  KeyRange,
  KeyTuple,
  PageRange,
  TableInfo,
} from '../../core/connector.js';
import { TerminalError } from '../../core/errors.js';
import type { TableRef } from '../../core/identifiers.js';
import { decoderFor } from './postgres-copy-text.js';
import type { PgSession } from './postgres-session.js';
import { orderBy, quoteIdent, quoteTable, rangeWhere } from './postgres-sql.js';
import { pgLogicalFor } from './postgres-types.js';

/** Sampled pages per chunk, at least (see chunkBoundaries). */
const PAGES_PER_CHUNK = 32;
/** Sample rows per chunk boundary when boundaries are found by TABLESAMPLE. */
const SAMPLES_PER_CHUNK = 200;

export class PostgresIntrospector implements Introspector {
  constructor(private readonly session: PgSession) {}

  ping(): Promise<void> {
    return this.session.ping();
  }

  async listTables(): Promise<TableRef[]> {
    const rows = await this.session.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
          AND c.relname NOT LIKE '\\_ferry\\_%'
        ORDER BY 1, 2`,
    );
    return rows.map((r) => ({ schema: r.schema, name: r.name }));
  }

  async describe(ref: TableRef): Promise<TableInfo> {
    const oidRows = await this.session.query<{ oid: number; reltuples: number; relpages: number }>(
      'SELECT c.oid::int AS oid, c.reltuples::float8 AS reltuples, c.relpages::int AS relpages FROM pg_class c WHERE c.oid = to_regclass($1)',
      [quoteTable(ref)],
    );
    if (oidRows.length === 0) throw new TerminalError(`table ${quoteTable(ref)} does not exist`);
    const { oid, reltuples } = oidRows[0];
    const cols = await this.session.query<{
      name: string;
      formatted: string;
      notnull: boolean;
      def: string | null;
      typtype: string;
      category: string;
      base: string | null;
    }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS formatted, a.attnotnull AS notnull,
              pg_get_expr(d.adbin, d.adrelid) AS def, t.typtype, t.typcategory AS category,
              CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base
         FROM pg_attribute a
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [oid],
    );
    const columns: ColumnInfo[] = cols.map((c) => {
      const formatted = c.base ?? c.formatted;
      const { logical, note } = pgLogicalFor(formatted, c.category);
      return {
        name: c.name,
        nativeType: c.base ?? c.formatted,
        logical,
        nullable: !c.notnull,
        default: c.def,
        note: c.base ? `domain ${c.formatted} read as ${c.base}` : note,
      };
    });
    const pk = await this.session.query<{ name: string }>(
      `SELECT a.attname AS name
         FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND i.indisprimary
        ORDER BY k.ord`,
      [oid],
    );
    const idx = await this.session.query<{
      name: string;
      unique: boolean;
      def: string;
      plain: boolean;
      columns: string[] | null;
    }>(
      `SELECT ic.relname AS name, i.indisunique AS unique, pg_get_indexdef(i.indexrelid) AS def,
              (i.indexprs IS NULL AND i.indpred IS NULL) AS plain,
              ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     ORDER BY k.ord)::text[] AS columns
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = $1 AND NOT i.indisprimary
        ORDER BY ic.relname`,
      [oid],
    );
    const indexes: IndexInfo[] = idx.map((i) => ({
      name: i.name,
      unique: i.unique,
      columns: i.plain ? i.columns : null,
      definition: i.def,
      dialect: 'postgres',
    }));
    return {
      ref,
      columns,
      primaryKey: pk.map((r) => r.name),
      indexes,
      estimatedRows: reltuples >= 0 ? Math.round(reltuples) : -1,
    };
  }

  /** The planner's correlation of the key's first column with the heap order (from ANALYZE), if known. */
  async keyLocality(ref: TableRef, key: readonly ColumnInfo[]): Promise<number | null> {
    if (key.length === 0) return null;
    const rows = await this.session.query<{ c: number | null }>(
      `SELECT s.correlation::float8 AS c FROM pg_stats s JOIN pg_class r ON r.relname = s.tablename
         JOIN pg_namespace n ON n.oid = r.relnamespace AND n.nspname = s.schemaname
        WHERE r.oid = to_regclass($1) AND s.attname = $2 AND NOT s.inherited`,
      [quoteTable(ref), key[0].name],
    );
    const c = rows[0]?.c;
    return typeof c === 'number' ? c : null;
  }

  /**
   * Page ranges read by `ctid` (a TID range scan, PostgreSQL 14+: each chunk reads only its own
   * pages). Only for a plain table: a partitioned table's partitions each number their pages from 0.
   * The version is the table's file (a TRUNCATE, VACUUM FULL or CLUSTER rewrites it) and its counts
   * of inserted, updated and deleted rows. Without track_counts those stay 0, and a standby does not
   * count the changes it replays: neither is offered page ranges.
   */
  async pageChunks(ref: TableRef, chunkRows: number): Promise<{ pages: PageRange[]; version: string } | null> {
    const rows = await this.session.query<{
      v: number;
      standby: boolean;
      kind: string;
      blocks: string;
      tuples: number;
      pages: number;
    }>(
      `SELECT current_setting('server_version_num')::int AS v, pg_is_in_recovery() AS standby, c.relkind::text AS kind,
              (pg_relation_size(c.oid) / current_setting('block_size')::int)::text AS blocks,
              c.reltuples::float8 AS tuples, c.relpages::int AS pages
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [quoteTable(ref)],
    );
    const r = rows[0];
    if (!r || r.v < 140000 || r.standby || r.kind !== 'r' || !(r.tuples > 0) || !(r.pages > 0)) return null;
    const version = await this.countsVersion(ref);
    if (version === null) return null;
    const blocks = Number(r.blocks);
    const perChunk = Math.max(1, Math.ceil(chunkRows / (r.tuples / r.pages)));
    const pages: PageRange[] = [];
    for (let from = 0; from === 0 || from < blocks; from += perChunk) pages.push({ from, to: from + perChunk });
    pages[pages.length - 1].to = null;
    return { pages, version };
  }

  async pageVersion(ref: TableRef): Promise<string> {
    // No version (the table is gone, or counts are off) never equals a planned one.
    return (await this.countsVersion(ref)) ?? `unknown ${Date.now()}`;
  }

  private async countsVersion(ref: TableRef): Promise<string | null> {
    const rows = await this.session.query<{ version: string | null }>(
      `SELECT CASE WHEN current_setting('track_counts')::bool THEN
                pg_relation_filenode(c.oid)::text || ':' || (pg_stat_get_tuples_inserted(c.oid)
                  + pg_stat_get_tuples_updated(c.oid) + pg_stat_get_tuples_deleted(c.oid))::text END AS version
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [quoteTable(ref)],
    );
    return rows[0]?.version ?? null;
  }

  async count(ref: TableRef, key: readonly ColumnInfo[], range: KeyRange | null): Promise<number> {
    const rows = await this.session.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quoteTable(ref)}${rangeWhere(key, range)}`,
    );
    return Number(rows[0].n);
  }

  /**
   * Boundaries from a block sample (TABLESAMPLE SYSTEM) sorted by the server, so finding them costs
   * a small fraction of a scan whatever the table size. Chunk sizes are then approximate; the
   * ranges still cover every key exactly once, because chunks are (b[i-1], b[i]] with open ends.
   * Small tables (or a sample too small to be useful) use an exact pass over the key.
   */
  async chunkBoundaries(ref: TableRef, key: readonly ColumnInfo[], chunkRows: number): Promise<KeyTuple[]> {
    if (key.length === 0) return [];
    const stats = await this.describeEstimate(ref);
    let estimate = stats?.rows ?? -1;
    if (estimate < 0) estimate = await this.count(ref, key, null);
    if (estimate <= chunkRows) return [];
    // 1% of slack: an estimate of 1,000,094 rows for exactly 1M made three chunks of 500,000, not two.
    const chunks = Math.ceil(estimate / (chunkRows * 1.01));
    const cols = key.map((c) => quoteIdent(c.name)).join(', ');
    const decoders = key.map((c) => decoderFor(c.logical));
    const decode = (r: Record<string, unknown>): KeyTuple => key.map((_c, i) => decoders[i](String(r[`k${i}`])));
    const select = key.map((c, i) => `${quoteIdent(c.name)}::text AS k${i}`).join(', ');
    const wanted = chunks * SAMPLES_PER_CHUNK;
    if (estimate > wanted * 4) {
      // SYSTEM samples whole pages. In a table stored in key order a page is a run of neighbouring
      // keys, so a few pages per chunk left gaps of millions of rows between boundaries (chunks of
      // 1,373 to 2.9M rows for 500,000 wanted): take at least PAGES_PER_CHUNK pages per chunk.
      const pages = stats && stats.pages > 0 ? (100 * chunks * PAGES_PER_CHUNK) / stats.pages : 0;
      const pct = Math.min(100, Math.max((100 * wanted) / estimate, pages));
      // The server sorts the sample and keeps the last key of each of `chunks` equal tiles.
      const desc = key.map((c) => `${quoteIdent(c.name)} DESC`).join(', ');
      const tiles = await this.session.query<Record<string, unknown>>(
        `SELECT ${select}, n FROM (
           SELECT DISTINCT ON (t) ${cols}, t, n FROM (
             SELECT ${cols}, ntile(${chunks}) OVER (${orderBy(key).trim()}) AS t, count(*) OVER () AS n
               FROM (SELECT ${cols} FROM ${quoteTable(ref)} TABLESAMPLE SYSTEM (${pct.toFixed(6)})) s) s
           ORDER BY t, ${desc}) s
         WHERE t < ${chunks} ORDER BY t`,
      );
      if (tiles.length > 0 && Number(tiles[0].n) >= chunks * 10) return dedupe(tiles.map(decode));
    }
    const rows = await this.session.query(
      `SELECT ${select} FROM (SELECT ${cols}, row_number() OVER (${orderBy(key).trim()}) AS rn FROM ${quoteTable(ref)}) s
        WHERE rn % ${Math.floor(chunkRows)} = 0${orderBy(key)}`,
    );
    return dedupe(rows.map(decode));
  }

  private async describeEstimate(ref: TableRef): Promise<{ rows: number; pages: number } | undefined> {
    const rows = await this.session.query<{ reltuples: number; relpages: number }>(
      'SELECT reltuples::float8 AS reltuples, relpages::int AS relpages FROM pg_class WHERE oid = to_regclass($1)',
      [quoteTable(ref)],
    );
    if (rows.length === 0) return undefined;
    // A table never vacuumed or analyzed says -1 (or 0 pages): unknown.
    const known = rows[0].reltuples >= 0 && rows[0].relpages > 0;
    return { rows: known ? rows[0].reltuples : -1, pages: rows[0].relpages };
  }
}

/** Drops repeated boundaries (many sampled rows can share a key prefix of a composite key). */
function dedupe(bounds: KeyTuple[]): KeyTuple[] {
  const out: KeyTuple[] = [];
  let last = '';
  for (const b of bounds) {
    const s = JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    if (s !== last) out.push(b);
    last = s;
  }
  return out;
}
