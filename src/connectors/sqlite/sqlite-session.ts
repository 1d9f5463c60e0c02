import { existsSync } from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { ConnectorOptions } from '../../core/connector.js';
import {
  AlreadyCommittedError,
  ConfigError,
  ConnectionError,
  TerminalError,
  TransientError,
} from '../../core/errors.js';

type Database = BetterSqlite3.Database;
type DatabaseCtor = typeof BetterSqlite3;

/** `sqlite:path`, `sqlite://path`, `sqlite:///abs/path`; relative paths from the job file's folder. */
export function sqlitePath(url: string, baseDir: string): string {
  const m = /^sqlite3?:(.*)$/i.exec(url);
  if (!m || m[1] === '') throw new ConfigError(`not a SQLite URL: ${url} (expected sqlite:path/to/file.db)`);
  let p = m[1];
  if (p.startsWith('//')) p = p.slice(2);
  if (p === ':memory:')
    throw new ConfigError('sqlite::memory: cannot be a source or target of a job (it is gone when ferry exits)');
  return path.resolve(baseDir, p);
}

/**
 * One SQLite database file: a main connection (introspection, writes) and read connections per
 * chunk. A target file is created on first use, not when the job is planned, so a job that fails
 * validation leaves nothing behind.
 */
export class SqliteSession {
  private main: Database | undefined;

  private constructor(
    private readonly Ctor: DatabaseCtor,
    readonly file: string,
    /** A source is opened read-only and left as it is (no journal-mode change, nothing written). */
    private readonly readOnly: boolean,
  ) {}

  static async open(url: string, options: ConnectorOptions, mustExist: boolean): Promise<SqliteSession> {
    const file = sqlitePath(url, options.baseDir);
    if (mustExist && !existsSync(file)) {
      throw new ConnectionError(`SQLite database ${file} does not exist`, { hint: 'check the path in the URL' });
    }
    if (!mustExist && !existsSync(path.dirname(file))) {
      throw new ConnectionError(`folder ${path.dirname(file)} of SQLite database ${file} does not exist`);
    }
    const Ctor = (await import('better-sqlite3')).default;
    return new SqliteSession(Ctor, file, mustExist);
  }

  /** Whether the database file exists yet (a target is created on first write). */
  exists(): boolean {
    return this.main !== undefined || existsSync(this.file);
  }

  get db(): Database {
    if (this.main) return this.main;
    let db: Database;
    try {
      if (this.readOnly) {
        db = new this.Ctor(this.file, { readonly: true, fileMustExist: true });
      } else {
        db = new this.Ctor(this.file);
        // WAL: readers never block the writer; NORMAL sync is crash-safe for a killed process
        // (a lost power supply can only lose whole last transactions, data and marker together).
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('busy_timeout = 10000');
      db.defaultSafeIntegers(true);
    } catch (err) {
      throw new ConnectionError(
        `cannot open SQLite database ${this.file}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    this.main = db;
    return db;
  }

  /** A separate read-only connection, so chunks can be read in parallel with each other. */
  openReader(): Database {
    const db = new this.Ctor(this.file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    db.defaultSafeIntegers(true);
    return db;
  }

  close(): void {
    if (this.main?.open) this.main.close();
  }
}

/** SQLite errors typed: busy/locked retry, a marker conflict means the chunk was committed already. */
export function classifySqliteError(
  err: unknown,
  context: { stream?: string; chunk?: string; query?: string } = {},
): Error {
  if (err instanceof TerminalError || err instanceof TransientError || err instanceof AlreadyCommittedError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const message = e.message ?? String(err);
  if (code.startsWith('SQLITE_CONSTRAINT') && message.includes('_ferry_chunks')) {
    return new AlreadyCommittedError('chunk already committed by an earlier attempt', context, { cause: err });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new TransientError(message, context, { cause: err });
  }
  return new TerminalError(message, context, { cause: err });
}
