import type { Capabilities, Connector, ConnectorOptions } from '../../core/connector.js';
import { ConfigError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { PostgresIntrospector } from './postgres-introspector.js';
import { PostgresReader } from './postgres-reader.js';
import { PgSession } from './postgres-session.js';
import { PostgresWriter } from './postgres-writer.js';

export const POSTGRES_CAPABILITIES: Capabilities = {
  bulkLoad: 'copy',
  maxReaders: 16,
  maxWriters: 16,
  transactionalDdl: true,
  defaultSchema: 'public',
  unquotedCase: 'lower',
  passThrough: ['postgres-copydata', 'postgres-binary'],
  values: { nulInText: false, nonFiniteFloats: true, invalidDates: false, invalidUtf8: false, extremeDates: true },
  maxIdentifierBytes: 63,
  caseInsensitiveColumns: false,
  stagingTable: true,
  keyWhileLoading: false,
  keyOrderReads: false,
  castsText: true,
  rangeReads: true,
};

/** `postgres://` / `postgresql://` URLs. The driver (`pg`) is loaded lazily. */
export async function createPostgresConnector(url: string, options: ConnectorOptions): Promise<Connector> {
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new ConfigError(`not a PostgreSQL URL: ${redactUrl(url)}`);
  const session = await PgSession.open(url, options);
  return {
    dialect: 'postgres',
    castRules: [],
    capabilities: POSTGRES_CAPABILITIES,
    introspector: new PostgresIntrospector(session),
    reader: new PostgresReader(session),
    writer: new PostgresWriter(session),
    close: () => session.close(),
  };
}
