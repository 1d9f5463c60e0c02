import type { Capabilities, Connector, ConnectorOptions } from '../../core/connector.js';
import { MysqlIntrospector } from './mysql-introspector.js';
import { MysqlReader } from './mysql-reader.js';
import { MysqlSession } from './mysql-session.js';
import { MYSQL_DEFAULT_CAST_RULES } from './mysql-types.js';
import { MysqlWriter } from './mysql-writer.js';

export const MYSQL_CAPABILITIES: Omit<Capabilities, 'defaultSchema'> = {
  bulkLoad: 'load-data',
  maxReaders: 16,
  maxWriters: 16,
  // DDL commits implicitly; the swap is ordered instead (see MysqlWriter.swapIn).
  transactionalDdl: false,
  unquotedCase: 'preserve',
  // LOAD DATA text straight from the source's result rows (MysqlReader.readRaw).
  passThrough: ['mysql-text'],
  // Zero dates, NUL in text, and bytes that are not UTF-8 in a utf8 column can all be stored;
  // NaN and ±Infinity cannot.
  values: { nulInText: true, nonFiniteFloats: false, invalidDates: true, invalidUtf8: true, extremeDates: false },
  maxIdentifierBytes: 64,
  identifierLimitInCharacters: true,
  caseInsensitiveColumns: true,
  stagingTable: true,
  keyWhileLoading: true,
  keyOrderReads: true,
  castsText: true,
  rangeReads: true,
};

/** `mysql://` and `mariadb://` URLs. The driver (`mysql2`) is loaded lazily. */
export async function createMysqlConnector(url: string, options: ConnectorOptions): Promise<Connector> {
  const session = await MysqlSession.open(url, options);
  return {
    dialect: 'mysql',
    castRules: MYSQL_DEFAULT_CAST_RULES,
    // A MySQL "schema" is a database; the URL's database is where unqualified names live.
    capabilities: { ...MYSQL_CAPABILITIES, defaultSchema: session.database },
    introspector: new MysqlIntrospector(session),
    reader: new MysqlReader(session),
    writer: new MysqlWriter(session),
    close: () => session.close(),
  };
}
