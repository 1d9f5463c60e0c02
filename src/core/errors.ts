/**
 * Error classes. Retries are decided by type (TransientError), never by matching messages;
 * exit codes are decided by type too (see EXIT_CODES and exitCodeFor).
 */

/** Where an error happened, as far as it is known. Every field is optional. */
export interface ErrorContext {
  /** The stream (e.g. `public.orders`). */
  stream?: string;
  /** The chunk id (e.g. `c00012`). */
  chunk?: string;
  /** The column, when one value caused the error. */
  column?: string;
  /** The SQL (never with values or secrets) that failed. */
  query?: string;
  /** What the user can do about it. */
  hint?: string;
}

export class FerryError extends Error {
  readonly context: ErrorContext;
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }

  /** A one-paragraph message for people: what, where, why, and what to do. */
  describe(): string {
    const where: string[] = [];
    if (this.context.stream) where.push(`stream ${this.context.stream}`);
    if (this.context.chunk) where.push(`chunk ${this.context.chunk}`);
    if (this.context.column) where.push(`column ${this.context.column}`);
    let text = where.length ? `${where.join(', ')}: ${this.message}` : this.message;
    const cause = this.cause instanceof Error ? this.cause.message : undefined;
    if (cause && !text.includes(cause)) text += ` (cause: ${cause})`;
    if (this.context.hint) text += `\n  hint: ${this.context.hint}`;
    return text;
  }
}

/** Bad job file, bad CLI usage, unsupported scheme, a configured table that does not exist. Exit 2. */
export class ConfigError extends FerryError {}

/** Could not connect or authenticate. Exit 3. */
export class ConnectionError extends FerryError {}

/** A failure that a retry can cure: connection reset, deadlock, serialization failure, admin shutdown. */
export class TransientError extends FerryError {}

/** A failure that a retry will not cure: missing permission, a value that cannot be stored. */
export class TerminalError extends FerryError {}

/**
 * The chunk's marker is already in the target: an earlier attempt committed it (its commit
 * reply was lost). The chunk must not be written again.
 */
export class AlreadyCommittedError extends FerryError {}

/**
 * A chunk read in a raw format for another dialect (MySQL rows as PostgreSQL binary COPY) met a
 * value the format cannot carry exactly as the row path would: a zero date, invalid UTF-8, a
 * number out of the target's range. The engine copies that chunk again by rows, where the
 * policies decide. Never shown to users.
 */
export class RawUnfit extends Error {
  constructor(
    readonly column: string,
    readonly value: unknown,
  ) {
    super(`value of ${column} has no exact raw form here`);
  }
}

/** Verify found a difference between source and target. Exit 4. */
export class MismatchError extends FerryError {}

export const EXIT_CODES = {
  /** Every stream done, counted and equal. */
  ok: 0,
  /** A stream failed, was skipped, or its counts disagree. */
  failed: 1,
  /** Bad usage or configuration: nothing was written. */
  config: 2,
  /** Could not connect or authenticate to a source or target: nothing was written. */
  connection: 3,
  /** `ferry verify` found a mismatch. */
  mismatch: 4,
  /** Interrupted by SIGINT/SIGTERM; committed chunks stay committed, rerun to resume. */
  interrupted: 130,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT_CODES.config;
  if (err instanceof ConnectionError) return EXIT_CODES.connection;
  if (err instanceof MismatchError) return EXIT_CODES.mismatch;
  return EXIT_CODES.failed;
}

export function isTransient(err: unknown): boolean {
  return err instanceof TransientError;
}

export function errorMessage(err: unknown): string {
  if (err instanceof FerryError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
