/**
 * Compression of the text formats. gzip is Node's zlib. Node 20's zlib has no zstd, so zstd is
 * `@bokuweb/zstd-wasm` (the zstd C library as WebAssembly, no native build) for writing, one frame
 * per 1 MiB block (a zstd file may hold several frames; every decoder reads them in turn), and
 * `fzstd` (pure JS, streaming) for reading.
 */
import { Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { Compression } from '../../core/file-layout.js';

const ZSTD_BLOCK = 1024 * 1024;
const ZSTD_LEVEL = 3;

let zstdReady: Promise<typeof import('@bokuweb/zstd-wasm')> | null = null;

/** The zstd-wasm module, initialised once (the WebAssembly instance is shared). */
export function zstdWasm(): Promise<typeof import('@bokuweb/zstd-wasm')> {
  zstdReady ??= import('@bokuweb/zstd-wasm').then(async (m) => {
    await m.init();
    return m;
  });
  return zstdReady;
}

/** zstd over 1 MiB blocks, each its own frame. */
async function zstdCompressor(): Promise<Transform> {
  const z = await zstdWasm();
  let parts: Buffer[] = [];
  let size = 0;
  const flushBlock = (t: Transform) => {
    if (size === 0) return;
    const block = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    t.push(Buffer.from(z.compress(block, ZSTD_LEVEL)));
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= ZSTD_BLOCK) flushBlock(this);
      cb();
    },
    flush(cb) {
      flushBlock(this);
      cb();
    },
  });
}

/** A compressing stream for the text formats, or null for `none` (Parquet compresses inside). */
export async function compressor(c: Compression): Promise<Transform | null> {
  if (c === 'gzip') return zlib.createGzip({ level: 6 });
  if (c === 'zstd') return zstdCompressor();
  return null;
}

async function zstdDecompressor(): Promise<Transform> {
  const { Decompress } = await import('fzstd');
  let out: Transform | null = null;
  const d = new Decompress((data) => {
    out?.push(Buffer.from(data));
  });
  out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        d.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        d.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return out;
}

export async function decompressor(c: Compression): Promise<Transform | null> {
  if (c === 'gzip') return zlib.createGunzip();
  if (c === 'zstd') return zstdDecompressor();
  return null;
}

/** File name extension of a format and compression: `.csv.gz`, `.jsonl.zst`, `.parquet`. */
export function fileExtension(format: string, c: Compression): string {
  if (format === 'parquet') return '.parquet';
  return `.${format}${c === 'gzip' ? '.gz' : c === 'zstd' ? '.zst' : ''}`;
}
