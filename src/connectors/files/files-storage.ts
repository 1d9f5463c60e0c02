/**
 * Where a lake's objects live: a local folder or an S3 bucket prefix, behind one small interface.
 * Keys are relative to the root (`public.orders/part-c00001-....parquet`) and use `/`.
 * Every object appears whole or not at all: a local file is written under a temporary name and
 * renamed; an S3 object is one PUT or one completed multipart upload.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ConnectionError } from '../../core/errors.js';

export interface StoredObject {
  key: string;
  size: number;
  /** Version tag: S3's ETag, or a local file's modification time. */
  etag?: string;
  /** A local temporary file left by a killed writer (never part of the lake; cleaned up). */
  temp?: boolean;
}

/** A writable for one object, published by `commit` (whole) or dropped by `abort`. */
export interface ObjectWriter {
  stream: Writable;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface Storage {
  /** For messages: `file:/data/lake` or `s3://bucket/prefix`. */
  readonly location: string;
  /** Checks that the root can be reached and written (a bucket exists, a folder can be made). */
  ping(): Promise<void>;
  putBytes(key: string, body: Buffer): Promise<void>;
  /** The object's bytes, or null when it does not exist. */
  getBytes(key: string): Promise<Buffer | null>;
  createWriter(key: string): Promise<ObjectWriter>;
  /** The object's bytes; with `etag`, only if it is still that version (else an error). */
  read(key: string, etag?: string): Promise<Readable>;
  size(key: string): Promise<number>;
  /** Size and version tag (as `list` gives them). */
  stat(key: string): Promise<{ size: number; etag: string }>;
  /** Bytes [start, end) of an object (Parquet footers and row groups). */
  readRange(key: string, start: number, end: number): Promise<Buffer>;
  /** Every object under a key prefix (`public.orders/`), at any depth. */
  list(prefix: string): AsyncIterable<StoredObject>;
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

const TMP_MARK = '.ferry-tmp-';

/** A local file's version: its modification time (ns when the platform has them). */
function localEtag(st: { mtimeMs: number }): string {
  return `mtime:${st.mtimeMs}`;
}

export class LocalStorage implements Storage {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = `file:${root}`;
  }

  private file(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  async ping(): Promise<void> {
    // Nothing is created yet (a plan writes nothing): the folder, or the nearest existing parent
    // it would be made in, must be a writable directory.
    let dir = this.root;
    try {
      for (;;) {
        const st = await fsp.stat(dir).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT' && path.dirname(dir) !== dir) return null;
          throw err;
        });
        if (st) {
          if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
          break;
        }
        dir = path.dirname(dir);
      }
      await fsp.access(dir, 2 /* W_OK */);
    } catch (err) {
      throw new ConnectionError(`cannot write to ${this.root}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
        hint: 'check the folder exists (or can be created) and is writable',
      });
    }
  }

  async putBytes(key: string, body: Buffer): Promise<void> {
    const w = await this.createWriter(key);
    w.stream.end(body);
    await w.commit();
  }

  async getBytes(key: string): Promise<Buffer | null> {
    try {
      return await fsp.readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async createWriter(key: string): Promise<ObjectWriter> {
    const final = this.file(key);
    await fsp.mkdir(path.dirname(final), { recursive: true });
    const tmp = path.join(path.dirname(final), `${TMP_MARK}${randomBytes(6).toString('hex')}-${path.basename(final)}`);
    const stream = createWriteStream(tmp);
    let done = false;
    return {
      stream,
      async commit() {
        if (!stream.writableEnded) stream.end();
        await finished(stream);
        await fsp.rename(tmp, final);
        done = true;
      },
      async abort() {
        if (done) return;
        stream.destroy();
        await fsp.rm(tmp, { force: true });
      },
    };
  }

  async read(key: string): Promise<Readable> {
    await fsp.access(this.file(key));
    return createReadStream(this.file(key), { highWaterMark: 1 << 20 });
  }

  async size(key: string): Promise<number> {
    return (await fsp.stat(this.file(key))).size;
  }

  async stat(key: string): Promise<{ size: number; etag: string }> {
    const st = await fsp.stat(this.file(key));
    return { size: st.size, etag: localEtag(st) };
  }

  async readRange(key: string, start: number, end: number): Promise<Buffer> {
    const fh = await fsp.open(this.file(key));
    try {
      const buf = Buffer.allocUnsafe(end - start);
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const dir = this.file(prefix.replace(/\/$/, ''));
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    for (const e of entries) {
      const key = `${base}${e.name}`;
      if (e.isDirectory()) yield* this.list(`${key}/`);
      else if (e.isFile()) {
        const st = await fsp.stat(this.file(key));
        const size = st.size;
        yield e.name.startsWith(TMP_MARK) ? { key, size, temp: true } : { key, size, etag: localEtag(st) };
      }
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const k of keys) {
      await fsp.rm(this.file(k), { force: true });
      dirs.add(path.dirname(this.file(k)));
    }
    // Partition folders left empty go too (deepest first), never the root.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      let cur = d;
      while (cur.startsWith(this.root) && cur !== this.root) {
        try {
          await fsp.rmdir(cur);
        } catch {
          break;
        }
        cur = path.dirname(cur);
      }
    }
  }

  async close(): Promise<void> {}
}
