/**
 * PostgreSQL -> PostgreSQL COPY without re-framing (the `postgres-copydata` pass-through format):
 * the source's CopyData messages reach the target byte for byte.
 *
 * A backend's CopyData message ('d', int32 length, payload) has exactly the bytes of a frontend's,
 * so a relay only has to find where messages begin and end. pg-copy-streams' `to` takes every
 * message's payload out (a Buffer per row, then one joined copy per socket read) and `from` frames
 * the joined payloads again; on narrow rows that per-row work was most of ferry's CPU between two
 * PostgreSQL servers. No library forwards the frames as they are, hence this file: `CopyOutFrames`
 * hops from header to header of the socket's own buffers and hands on runs of whole messages as
 * slices of them (a copy only for the one message a socket read cuts in two), and `copyInFrames`
 * is pg-copy-streams' `from` writing those runs unchanged.
 *
 * Only whole messages are ever handed on, so a target that must abort (CopyFail) never sends it
 * in the middle of a CopyData message.
 */
import { Readable } from 'node:stream';
import type { Connection } from 'pg';
import { type CopyStreamQuery, from as copyFrom } from 'pg-copy-streams';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
/** Messages a backend may send during COPY OUT that do not end it (and CopyOutResponse, first). */
const SKIPPED = new Set([
  0x48, // 'H' CopyOutResponse
  0x4e, // 'N' NoticeResponse
  0x53, // 'S' ParameterStatus
  0x41, // 'A' NotificationResponse
]);
const HEADER = 5;

type Socket = NodeJS.ReadableStream & { read(): Buffer | null; resume(): unknown };
type DataHandler = (chunk: Buffer) => void;

/**
 * `COPY ... TO STDOUT` as a stream of whole CopyData messages, headers included. Used like
 * pg-copy-streams' `to` (`client.query(new CopyOutFrames(sql))`): it takes the connection's socket
 * over until CopyDone, then gives pg the rest (CommandComplete, ReadyForQuery, or an error).
 */
export class CopyOutFrames extends Readable {
  /** Rows the server said it sent (its CommandComplete). */
  rowCount = 0;
  private connection: (Connection & { stream: Socket }) | null = null;
  private pgHandler: DataHandler | null = null;
  /** The start of a message header a socket read cut (fewer than 5 bytes). */
  private head: Buffer | null = null;
  /** The pieces of a CopyData message a socket read cut, and how many bytes it still lacks. */
  private partial: Buffer[] = [];
  private need = 0;
  /** Bytes of a skipped message still to come. */
  private skip = 0;
  private wanted = false;
  private forwarding = false;
  private detached = false;
  private readonly onReadable = () => this.forward();

  constructor(readonly text: string) {
    super();
  }

  submit(connection: Connection): void {
    const conn = connection as Connection & { stream: Socket };
    this.connection = conn;
    const socket = conn.stream;
    const handlers = socket.listeners('data') as DataHandler[];
    if (handlers.length !== 1) throw new Error(`CopyOutFrames: ${handlers.length} data listeners on the socket`);
    this.pgHandler = handlers[0];
    socket.removeListener('data', this.pgHandler);
    socket.pause();
    socket.on('readable', this.onReadable);
    conn.query(this.text);
  }

  override _read(): void {
    this.wanted = true;
    this.forward();
  }

  private forward(): void {
    if (this.forwarding || !this.wanted || this.detached || !this.connection) return;
    this.forwarding = true;
    const socket = this.connection.stream;
    while (this.wanted && !this.detached) {
      const chunk: Buffer | null = socket.read();
      if (chunk === null) break;
      this.wanted = this.parse(chunk);
    }
    this.forwarding = false;
  }

  /** Hands on the whole CopyData messages of one socket read; false when the consumer is full. */
  private parse(buf: Buffer): boolean {
    let p = 0;
    let more = true;
    if (this.head) {
      // A header cut by the last read: complete its 5 bytes from this one.
      const take = Math.min(HEADER - this.head.length, buf.length);
      const h = Buffer.concat([this.head, buf.subarray(0, take)]);
      p = take;
      if (h.length < HEADER) {
        this.head = h;
        return true;
      }
      this.head = null;
      const code = h[0];
      const len = h.readUInt32BE(1);
      if (code === COPY_DATA) {
        this.partial = [h];
        this.need = 1 + len - HEADER;
      } else if (code === COPY_DONE) {
        return this.detach(buf.subarray(p), true);
      } else if (SKIPPED.has(code)) {
        this.skip = 1 + len - HEADER;
      } else {
        return this.detach(Buffer.concat([h, buf.subarray(p)]), false);
      }
    }
    if (this.partial.length > 0) {
      const n = Math.min(this.need, buf.length - p);
      if (n > 0) this.partial.push(buf.subarray(p, p + n));
      this.need -= n;
      p += n;
      if (this.need > 0) return true;
      more = this.push(this.partial.length === 1 ? this.partial[0] : Buffer.concat(this.partial));
      this.partial = [];
    } else if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length - p);
      this.skip -= n;
      p += n;
      if (this.skip > 0) return true;
    }
    const end = buf.length;
    let run = p; // where the current run of whole CopyData messages starts
    while (end - p >= HEADER) {
      const code = buf[p];
      const size = 1 + buf.readUInt32BE(p + 1);
      if (code === COPY_DATA) {
        if (p + size <= end) {
          p += size;
          continue;
        }
        if (p > run) more = this.push(buf.subarray(run, p)) && more;
        this.partial = [buf.subarray(p)];
        this.need = size - (end - p);
        return more;
      }
      if (p > run) more = this.push(buf.subarray(run, p)) && more;
      if (code === COPY_DONE) return this.detach(buf.subarray(p + HEADER), true);
      if (!SKIPPED.has(code)) return this.detach(buf.subarray(p), false);
      if (p + size > end) {
        this.skip = size - (end - p);
        return more;
      }
      p += size;
      run = p;
    }
    if (p > run) more = this.push(buf.subarray(run, p)) && more;
    if (p < end) this.head = buf.subarray(p);
    return more;
  }

  /**
   * COPY OUT is over (CopyDone) or cut short (an ErrorResponse, or a message that ends it): the
   * socket goes back to pg with the bytes not consumed, which pg parses as usual, reporting to
   * handleCommandComplete or handleError.
   */
  private detach(rest: Buffer, copyDone: boolean): false {
    this.detached = true;
    const socket = this.connection!.stream;
    const handler = this.pgHandler!;
    socket.removeListener('readable', this.onReadable);
    socket.on('data', handler);
    if (rest.length > 0) handler(rest);
    // As pg-copy-streams does: pg's own handler may have paused the socket; resume after it returns.
    process.nextTick(() => socket.resume());
    if (copyDone) this.push(null);
    return false;
  }

  handleError(err: Error): void {
    this.emit('error', err);
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg?.text ?? '');
    if (m) this.rowCount = Number.parseInt(m[1], 10);
  }

  handleReadyForQuery(): void {}
}

/**
 * `COPY ... FROM STDIN` fed whole CopyData messages (a `CopyOutFrames` stream): pg-copy-streams'
 * `from`, which keeps its protocol handling (CopyInResponse wait, CopyFail on destroy, the end on
 * ReadyForQuery), with its framing step replaced by writing the bytes as they came.
 */
export function copyInFrames(text: string): CopyStreamQuery {
  const copy = copyFrom(text) as CopyStreamQuery & {
    connection: { stream: NodeJS.WritableStream } | null;
    flushChunk(chunk: Buffer): boolean;
  };
  copy.flushChunk = (chunk: Buffer) => copy.connection!.stream.write(chunk);
  return copy;
}
