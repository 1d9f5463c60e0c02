/**
 * Rejects files. Each chunk attempt writes its rejected rows to its own file (truncated when the
 * attempt starts, so a retried or resumed chunk never lists a row twice); when the stream ends,
 * the chunk files are joined into one JSON-lines file per stream:
 * `{"stream","chunk","key","column","value","reason","policy"}`.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalValue } from '../core/canonical.js';
import type { LogicalType } from '../core/logical-types.js';
import { InvalidText } from '../core/policies.js';

export interface RejectRecord {
  stream: string;
  chunk: string;
  /** Canonical text of the row's key values (or of the whole row when the table has no key). */
  key: (string | null)[];
  column: string;
  /** Canonical text of the raw value; bytes (and invalid UTF-8) as hex. */
  value: string | null;
  reason: string;
  policy: string;
  /** The file the row came from (a files source). */
  file?: string;
}

/** A file-system-safe name for a stream (`public."Order Items"` -> `public._Order_Items_`). */
export function safeName(stream: string): string {
  return stream.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function rawText(type: LogicalType, v: unknown): string | null {
  if (v instanceof InvalidText) return `\\x${v.bytes.toString('hex')}`;
  try {
    return canonicalValue(type, v);
  } catch {
    return String(v);
  }
}

export class ChunkRejects {
  private readonly file: string;
  count = 0;

  constructor(dir: string, stream: string, chunk: string) {
    const d = path.join(dir, safeName(stream));
    mkdirSync(d, { recursive: true });
    this.file = path.join(d, `${chunk}.jsonl`);
    writeFileSync(this.file, '');
  }

  add(r: RejectRecord): void {
    this.count++;
    appendFileSync(this.file, `${JSON.stringify(r)}\n`);
  }
}

/** Joins a stream's chunk files into `<dir>/<stream>.rejects.jsonl`; returns its path (or null if none). */
export function joinRejects(dir: string, stream: string, committedChunks: ReadonlySet<string>): string | null {
  const d = path.join(dir, safeName(stream));
  if (!existsSync(d)) return null;
  const out = path.join(dir, `${safeName(stream)}.rejects.jsonl`);
  let any = false;
  writeFileSync(out, '');
  for (const f of readdirSync(d).sort()) {
    const chunk = f.replace(/\.jsonl$/, '');
    // Only chunks whose rows were committed: a failed attempt's rejects are not part of the result.
    if (!committedChunks.has(chunk)) continue;
    const text = readFileSync(path.join(d, f), 'utf8');
    if (text) {
      appendFileSync(out, text);
      any = true;
    }
  }
  if (!any) {
    rmSync(out, { force: true });
    return null;
  }
  return out;
}
