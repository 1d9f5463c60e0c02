import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool, PoolConnection, PoolOptions } from 'mysql2';
import type { ConnectorOptions } from '../../core/connector.js';
import { ConfigError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { classifyMysqlConnectError, classifyMysqlError } from './mysql-errors.js';

/**
 * Session settings pinned on every connection: UTC (TIMESTAMP values are read and written as UTC,
 * never shifted by the server's zone), utf8mb4, a strict sql_mode that refuses truncation instead
 * of warning (zero dates stay allowed: MySQL -> MySQL keeps them; other sources never produce
 * them), explicit 0 never turned into an AUTO_INCREMENT value, and foreign keys unchecked while
 * loading (tables arrive in any order; the data came from a consistent source).
 */
const SESSION_SQL = [
  "SET time_zone = '+00:00'",
  'SET NAMES utf8mb4',
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
  'SET SESSION foreign_key_checks = 0',
];

/** `mysql://user:pass@host:port/db?ssl=required&ssl-ca=ca.pem` (also `mariadb://`). */
export function mysqlOptions(url: string, baseDir: string): PoolOptions & { database: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`not a valid MySQL URL: ${redactUrl(url)}`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError(`${redactUrl(url)}: the URL needs a database (mysql://host/db)`);
  const q = u.searchParams;
  const sslMode = (q.get('ssl-mode') ?? q.get('ssl') ?? '').toLowerCase();
  let ssl: PoolOptions['ssl'];
  if (sslMode && !['false', 'disabled', '0'].includes(sslMode)) {
    const file = (k: string) => {
      const p = q.get(k);
      return p ? readFileSync(path.resolve(baseDir, p)) : undefined;
    };
    ssl = {
      ca: file('ssl-ca'),
      cert: file('ssl-cert'),
      key: file('ssl-key'),
      // `required`/`true` encrypt without checking the certificate (like the mysql client's REQUIRED);
      // `verify-ca`/`verify-identity` check it.
      rejectUnauthorized: ['verify-ca', 'verify-identity', 'verify_ca', 'verify_identity'].includes(sslMode),
    };
  }
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database,
    ssl,
  };
}

/** A pool of connections to one MySQL/MariaDB database (the URL's database is the default schema). */
export class MysqlSession {
  private constructor(
    readonly pool: Pool,
    readonly database: string,
    readonly where: string,
  ) {}

  static async open(url: string, options: ConnectorOptions): Promise<MysqlSession> {
    const mysql = (await import('mysql2')).default;
    const base = mysqlOptions(url, options.baseDir);
    const pool = mysql.createPool({
      ...base,
      connectionLimit: options.maxConnections,
      charset: 'utf8mb4',
      timezone: 'Z',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      multipleStatements: false,
      connectTimeout: 15_000,
      enableKeepAlive: true,
      flags: ['+LOCAL_FILES'],
      connectAttributes: { program_name: options.applicationName ?? 'ferry' },
    });
    pool.on('connection', (conn) => {
      // A connection killed while idle in our hands must not crash the process. Added once per
      // connection: adding it at every checkout piled up listeners (MaxListenersExceededWarning).
      conn.on('error', () => {});
      for (const sql of SESSION_SQL) conn.query(sql);
    });
    return new MysqlSession(pool, base.database, redactUrl(url));
  }

  connect(): Promise<PoolConnection> {
    return new Promise((resolve, reject) => {
      this.pool.getConnection((err, conn) => {
        if (err) reject(classifyMysqlError(err));
        else resolve(conn);
      });
    });
  }

  /** One statement on a pooled connection; rows as arrays of raw Buffers when `raw` is set. */
  query<R = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<R[]> {
    return new Promise((resolve, reject) => {
      this.pool.query({ sql, values }, (err, rows) => {
        if (err) reject(classifyMysqlError(err, { query: sql }));
        else resolve(rows as R[]);
      });
    });
  }

  async ping(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.pool.getConnection((err, conn) => {
          if (err) return reject(err);
          conn.query('SELECT 1', (e) => {
            conn.release();
            if (e) reject(e);
            else resolve();
          });
        });
      });
    } catch (err) {
      throw classifyMysqlConnectError(err, this.where);
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.pool.end(() => resolve()));
  }
}

/** Runs a query on a given connection (promise form). */
export function run(conn: PoolConnection, sql: string, values: unknown[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.query({ sql, values }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
