import type { Client, Pool, PoolClient } from 'pg';
import type { ConnectorOptions } from '../../core/connector.js';
import { redactUrl } from '../../core/redact.js';
import { classifyConnectError, classifyPgError } from './postgres-errors.js';

/**
 * Session settings pinned on every connection so values have one text form whatever the server's
 * configuration: timestamps with zone are printed in UTC, intervals in ISO 8601, floats in their
 * shortest exact form, dates in ISO.
 */
const SESSION_OPTIONS = '-c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=1 -c DateStyle=ISO,YMD';

/** A pool of connections to one PostgreSQL database, shared by the connector's parts. */
export class PgSession {
  /** The connection holding the exported snapshot (see snapshot()), and its id. */
  private holder: { client: Client; id: string } | null = null;
  private exporting: Promise<string> | null = null;

  private constructor(
    readonly pool: Pool,
    readonly where: string,
    private readonly newClient: () => Client,
  ) {}

  static async open(url: string, options: ConnectorOptions): Promise<PgSession> {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections,
      application_name: options.applicationName ?? 'ferry',
      options: SESSION_OPTIONS,
      keepAlive: true,
      connectionTimeoutMillis: 15_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose backend was terminated emits 'error' on the pool; the next checkout
    // gets a fresh connection, so there is nothing to do but not crash.
    pool.on('error', () => {});
    // A checked-out client whose backend is terminated while it has no query in flight (between
    // two statements, or after its COPY TO finished but before the stream's reader released it)
    // emits 'error' on the client itself: with no listener that kills the process. Its next query
    // fails with a transient error instead (retried), and release() drops the dead client.
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const where = redactUrl(url);
    // The snapshot's holder is not a pooled connection: held for the whole run, it would take a
    // reader's place in a pool sized to the readers.
    return new PgSession(pool, where, () => new pg.Client(pool.options));
  }

  /**
   * The id of a snapshot exported once and shared by every page-range read of this process, so all
   * of a stream's page chunks see the same rows: a row updated during the run moves to another page,
   * and two reads at different times could see it in both ranges or in neither. A connection holds
   * the snapshot's transaction open until close(); if it is lost, the next call exports another.
   */
  async snapshot(): Promise<string> {
    if (this.holder) return this.holder.id;
    this.exporting ??= this.exportSnapshot().finally(() => {
      this.exporting = null;
    });
    return this.exporting;
  }

  /** Drops a snapshot that could not be imported (its holder died): the next snapshot() exports anew. */
  forgetSnapshot(id: string): void {
    if (this.holder?.id !== id) return;
    const { client } = this.holder;
    this.holder = null;
    client.end().catch(() => {});
  }

  private async exportSnapshot(): Promise<string> {
    const client = this.newClient();
    const lost = () => {
      if (this.holder?.client === client) this.holder = null;
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const res = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      this.holder = { client, id: res.rows[0].id };
      return this.holder.id;
    } catch (err) {
      client.end().catch(() => {});
      throw classifyPgError(err, { query: 'SELECT pg_export_snapshot()' });
    }
  }

  async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw classifyPgError(err);
    }
  }

  /** One query on any pooled connection; driver errors come back typed. */
  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    try {
      const res = await this.pool.query(sql, params);
      return res.rows as R[];
    } catch (err) {
      throw classifyPgError(err, { query: sql });
    }
  }

  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (err) {
      throw classifyConnectError(err, this.where);
    }
  }

  async close(): Promise<void> {
    if (this.holder) this.forgetSnapshot(this.holder.id);
    await this.pool.end().catch(() => {});
  }
}
