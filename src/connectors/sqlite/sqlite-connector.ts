import type { Capabilities, Connector, ConnectorOptions } from '../../core/connector.js';
import { SqliteIntrospector } from './sqlite-introspector.js';
import { SqliteReader } from './sqlite-reader.js';
import { SqliteSession } from './sqlite-session.js';
import { SqliteWriter } from './sqlite-writer.js';

export const SQLITE_CAPABILITIES: Capabilities = {
  bulkLoad: 'insert',
  // Readers each open their own connection; a database file has one writer at a time.
  maxReaders: 4,
  maxWriters: 1,
  transactionalDdl: true,
  defaultSchema: null,
  unquotedCase: 'preserve',
  passThrough: [],
  // SQLite stores whatever it is given: NUL in text, any text in a date column.
  values: { nulInText: true, nonFiniteFloats: true, invalidDates: true, invalidUtf8: false, extremeDates: true },
  maxIdentifierBytes: 1024,
  caseInsensitiveColumns: true,
  stagingTable: true,
  keyWhileLoading: false,
  keyOrderReads: false,
  rangeReads: true,
};

/** `sqlite:path` URLs. The driver (`better-sqlite3`) is loaded lazily. */
export async function createSqliteConnector(
  url: string,
  options: ConnectorOptions,
  role: 'source' | 'target',
): Promise<Connector> {
  const session = await SqliteSession.open(url, options, role === 'source');
  return {
    dialect: 'sqlite',
    castRules: [],
    capabilities: SQLITE_CAPABILITIES,
    introspector: new SqliteIntrospector(session),
    reader: new SqliteReader(session),
    writer: new SqliteWriter(session),
    close: async () => session.close(),
  };
}
