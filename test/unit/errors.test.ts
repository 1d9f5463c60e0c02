/** Error typing and exit codes, decided by type (never by message). No servers. */
import { describe, expect, it } from 'vitest';
import { classifyConnectError, classifyPgError } from '../../src/connectors/postgres/postgres-errors.js';
import {
  AlreadyCommittedError,
  ConfigError,
  ConnectionError,
  EXIT_CODES,
  exitCodeFor,
  FerryError,
  MismatchError,
  TerminalError,
  TransientError,
} from '../../src/core/errors.js';

const WHERE = 'postgres://u:***@127.0.0.1:5432/db';
const pgErr = (code: string, message = `error ${code}`) => Object.assign(new Error(message), { code });

describe('exit codes', () => {
  it('are the documented ones, by error type', () => {
    expect(EXIT_CODES).toEqual({ ok: 0, failed: 1, config: 2, connection: 3, mismatch: 4, interrupted: 130 });
    expect(exitCodeFor(new ConfigError('x'))).toBe(2);
    expect(exitCodeFor(new ConnectionError('x'))).toBe(3);
    expect(exitCodeFor(new MismatchError('x'))).toBe(4);
    expect(exitCodeFor(new TerminalError('x'))).toBe(1);
    expect(exitCodeFor(new TransientError('x'))).toBe(1);
    expect(exitCodeFor(new Error('cannot connect'))).toBe(1);
    expect(exitCodeFor('text')).toBe(1);
  });
});

describe('FerryError.describe', () => {
  it('names where, the cause and the hint', () => {
    const e = new TerminalError(
      'value too long',
      { stream: 'public.orders', chunk: 'c00003', column: 'note', hint: 'widen it' },
      { cause: new Error('22001 from server') },
    );
    expect(e.describe()).toBe(
      'stream public.orders, chunk c00003, column note: value too long (cause: 22001 from server)\n  hint: widen it',
    );
    expect(e.name).toBe('TerminalError');
    expect(e).toBeInstanceOf(FerryError);
  });

  it('does not repeat a cause already in the message', () => {
    const e = new ConfigError('bad: boom', {}, { cause: new Error('boom') });
    expect(e.describe()).toBe('bad: boom');
  });
});

describe('classifyConnectError', () => {
  const cases: [string, RegExp][] = [
    ['28P01', /check the user and password/],
    ['28000', /check the user and password/],
    ['3D000', /create the database first/],
    ['ECONNREFUSED', /check host and port/],
    ['ENOTFOUND', /check host and port/],
    ['EAI_AGAIN', /check host and port/],
    ['ETIMEDOUT', /check host and port/],
  ];
  for (const [code, hint] of cases) {
    it(`${code} is a ConnectionError (exit 3) naming the server, with a hint`, () => {
      const e = classifyConnectError(pgErr(code, `message of ${code}`), WHERE);
      expect(e).toBeInstanceOf(ConnectionError);
      expect(exitCodeFor(e)).toBe(3);
      expect(e.message).toBe(`cannot connect to ${WHERE}: message of ${code}`);
      expect((e as ConnectionError).context.hint).toMatch(hint);
    });
  }

  it('a malformed URL is a ConfigError (exit 2) naming the URL', () => {
    const e = classifyConnectError(pgErr('ERR_INVALID_URL', 'Invalid URL'), WHERE);
    expect(e).toBeInstanceOf(ConfigError);
    expect(exitCodeFor(e)).toBe(2);
    expect(e.message).toContain(WHERE);
  });

  it('anything else falls through to the ordinary classification', () => {
    expect(classifyConnectError(pgErr('42501', 'permission denied'), WHERE)).toBeInstanceOf(TerminalError);
    expect(classifyConnectError(pgErr('57P03', 'the database system is starting up'), WHERE)).toBeInstanceOf(
      TransientError,
    );
  });
});

describe('classifyPgError', () => {
  it('retries what a retry can cure', () => {
    for (const code of ['40001', '40P01', '57P01', '53300', '08006', 'ECONNRESET']) {
      expect(classifyPgError(pgErr(code)), code).toBeInstanceOf(TransientError);
    }
    expect(classifyPgError(new Error('Connection terminated unexpectedly'))).toBeInstanceOf(TransientError);
  });

  it('does not retry what a retry will not cure, and keeps the column', () => {
    const e = classifyPgError(Object.assign(pgErr('23502', 'null value'), { column: 'note' }), { stream: 's' });
    expect(e).toBeInstanceOf(TerminalError);
    expect((e as TerminalError).context).toMatchObject({ stream: 's', column: 'note' });
  });

  it("a duplicate chunk marker means the chunk's earlier attempt committed", () => {
    const e = classifyPgError(Object.assign(pgErr('23505'), { constraint: '_ferry_chunks_pkey' }));
    expect(e).toBeInstanceOf(AlreadyCommittedError);
    expect(classifyPgError(Object.assign(pgErr('23505'), { constraint: 'orders_pkey' }))).toBeInstanceOf(TerminalError);
  });

  it('leaves already typed errors alone', () => {
    const t = new TransientError('x');
    expect(classifyPgError(t)).toBe(t);
  });
});
