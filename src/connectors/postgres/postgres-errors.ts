import {
  AlreadyCommittedError,
  ConfigError,
  ConnectionError,
  type ErrorContext,
  RawUnfit,
  TerminalError,
  TransientError,
} from '../../core/errors.js';

/**
 * SQLSTATEs a retry can cure: connection exceptions (08), serialization failure and deadlock
 * (40001, 40P01), admin/crash shutdown and "cannot connect now" (57P01-57P03), too many
 * connections (53300), lock not available (55P03), query canceled by a recovery conflict (40001).
 */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300', '55P03', '53400']);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);
const CONNECT_SQLSTATES = new Set(['28P01', '28000', '3D000']);

interface PgLikeError {
  code?: string;
  message?: string;
  table?: string;
  constraint?: string;
  column?: string;
}

/** Wraps a driver error into a typed FerryError (transient, terminal, or already-committed). */
export function classifyPgError(err: unknown, context: ErrorContext = {}): Error {
  if (err instanceof TransientError || err instanceof TerminalError || err instanceof ConnectionError) return err;
  if (err instanceof RawUnfit) return err;
  const e = (err ?? {}) as PgLikeError;
  const message = e.message ?? String(err);
  const code = e.code ?? '';
  if (code === '23505' && e.constraint?.startsWith('_ferry_chunks')) {
    return new AlreadyCommittedError('chunk already committed by an earlier attempt', context, { cause: err });
  }
  if (
    TRANSIENT_SQLSTATES.has(code) ||
    code.startsWith('08') ||
    TRANSIENT_NODE_CODES.has(code) ||
    /Connection terminated|connection.*(closed|ended)|Client has encountered a connection error/i.test(message)
  ) {
    return new TransientError(message, context, { cause: err });
  }
  const ctx = { ...context };
  if (e.column && !ctx.column) ctx.column = e.column;
  return new TerminalError(message, ctx, { cause: err });
}

/** Errors of the first connection: unreachable host, bad password, missing database. */
export function classifyConnectError(err: unknown, where: string): Error {
  const e = (err ?? {}) as PgLikeError;
  const code = e.code ?? '';
  // The driver parses the URL only when it first connects; a malformed one is a job-file error.
  if (code === 'ERR_INVALID_URL') {
    return new ConfigError(
      `${where}: not a valid PostgreSQL URL`,
      // Not written as a URL: the CLI would mask it as a password.
      { hint: 'expected postgres://HOST:PORT/DATABASE, with USER:PASSWORD@ before the host; percent-encode symbols' },
      { cause: err },
    );
  }
  if (CONNECT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code) || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const hint =
      code === '28P01' || code === '28000'
        ? // biome-ignore lint/suspicious/noTemplateCurlyInString: the job-file syntax shown to users
          'check the user and password (use ${ENV_VAR} for secrets)'
        : code === '3D000'
          ? 'create the database first, or fix the database name in the URL'
          : 'check host and port, and that the server is running';
    return new ConnectionError(`cannot connect to ${where}: ${e.message ?? code}`, { hint }, { cause: err });
  }
  return classifyPgError(err);
}
