/**
 * URL scheme -> connector factory. Factories are imported lazily so that a job that only moves
 * SQLite never loads the PostgreSQL driver, and the other way round.
 */
import type { Connector, ConnectorOptions } from '../core/connector.js';
import { ConfigError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';

export type Role = 'source' | 'target';

interface Entry {
  schemes: string[];
  open(url: string, options: ConnectorOptions, role: Role): Promise<Connector>;
}

const CONNECTORS: Entry[] = [
  {
    schemes: ['postgres', 'postgresql'],
    open: async (url, options) =>
      (await import('./postgres/postgres-connector.js')).createPostgresConnector(url, options),
  },
  {
    schemes: ['mysql', 'mariadb'],
    open: async (url, options) => (await import('./mysql/mysql-connector.js')).createMysqlConnector(url, options),
  },
  {
    schemes: ['sqlite', 'sqlite3'],
    open: async (url, options, role) =>
      (await import('./sqlite/sqlite-connector.js')).createSqliteConnector(url, options, role),
  },
  {
    schemes: ['file', 's3'],
    open: async (url, options, role) =>
      (await import('./files/files-connector.js')).createFilesConnector(url, options, role),
  },
];

/** Schemes named in the design that are not built yet: a clear message rather than "unknown". */
const PLANNED = ['mssql'];

export function supportedSchemes(): string[] {
  return CONNECTORS.flatMap((c) => c.schemes);
}

export async function openConnector(url: string, role: Role, options: ConnectorOptions): Promise<Connector> {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  const scheme = m?.[1].toLowerCase();
  const entry = CONNECTORS.find((c) => scheme && c.schemes.includes(scheme));
  if (!entry) {
    const shown = redactUrl(url);
    const supported = `supported: ${supportedSchemes()
      .map((s) => `${s}:`)
      .join(', ')}`;
    if (scheme && PLANNED.includes(scheme)) {
      throw new ConfigError(
        `${role} ${shown}: the ${scheme}: connector is not available in this version (${supported})`,
      );
    }
    throw new ConfigError(`${role} ${shown}: unsupported URL scheme${scheme ? ` "${scheme}:"` : ''} (${supported})`);
  }
  return entry.open(url, options, role);
}
