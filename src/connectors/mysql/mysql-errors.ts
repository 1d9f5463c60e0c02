import {
  AlreadyCommittedError,
  ConnectionError,
  type ErrorContext,
  RawUnfit,
  TerminalError,
  TransientError,
} from '../../core/errors.js';

/**
 * MySQL/MariaDB error numbers a retry can cure: deadlock (1213), lock wait timeout (1205), too
 * many connections (1040), server shutdown (1053), connection killed (1927 MariaDB), query
 * interrupted by KILL (1317), plus the client's lost-connection codes.
 */
const TRANSIENT_ERRNOS = new Set([1213, 1205, 1040, 1053, 1927, 1317, 2006, 2013]);
const TRANSIENT_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);
/** Access denied (1045, 1044, 1698), unknown database (1049). */
const CONNECT_ERRNOS = new Set([1045, 1044, 1698, 1049]);

interface MysqlLikeError {
  errno?: number;
  code?: string;
  message?: string;
  sql?: string;
  fatal?: boolean;
}

export function classifyMysqlError(err: unknown, context: ErrorContext = {}): Error {
  if (err instanceof TransientError || err instanceof TerminalError || err instanceof ConnectionError) return err;
  if (err instanceof AlreadyCommittedError || err instanceof RawUnfit) return err;
  const e = (err ?? {}) as MysqlLikeError;
  const message = e.message ?? String(err);
  if (e.errno === 1062 && message.includes('_ferry_chunks')) {
    return new AlreadyCommittedError('chunk already committed by an earlier attempt', context, { cause: err });
  }
  if ((e.errno !== undefined && TRANSIENT_ERRNOS.has(e.errno)) || TRANSIENT_CODES.has(e.code ?? '') || e.fatal) {
    return new TransientError(message, context, { cause: err });
  }
  if (e.errno === 1148 || e.errno === 3948 || /local_infile|LOAD DATA LOCAL/i.test(message)) {
    return new TerminalError(message, {
      ...context,
      hint: 'enable LOAD DATA LOCAL on the server: SET GLOBAL local_infile = 1 (or local_infile=1 in my.cnf)',
    });
  }
  const col = /column '([^']+)'/i.exec(message)?.[1];
  return new TerminalError(message, { ...context, column: context.column ?? col }, { cause: err });
}

export function classifyMysqlConnectError(err: unknown, where: string): Error {
  const e = (err ?? {}) as MysqlLikeError;
  const code = e.code ?? '';
  if (
    (e.errno !== undefined && CONNECT_ERRNOS.has(e.errno)) ||
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code)
  ) {
    const hint =
      e.errno === 1049
        ? 'create the database first, or fix the database name in the URL'
        : e.errno === 1045 || e.errno === 1698 || e.errno === 1044
          ? // biome-ignore lint/suspicious/noTemplateCurlyInString: the job-file syntax shown to users
            'check the user and password (use ${ENV_VAR} for secrets)'
          : 'check host and port, and that the server is running';
    return new ConnectionError(`cannot connect to ${where}: ${e.message ?? code}`, { hint }, { cause: err });
  }
  return classifyMysqlError(err);
}
