import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { redact } from './redact.js';

/** Structured JSON-lines log of a run (one object a line), secrets redacted. */
export class RunLogger {
  readonly file: string | null;

  constructor(dir: string | null, runId: string) {
    if (dir) {
      mkdirSync(dir, { recursive: true });
      this.file = path.join(dir, `${runId}.log.jsonl`);
    } else this.file = null;
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', event: string, fields: Record<string, unknown> = {}): void {
    if (!this.file) return;
    const line = JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }, (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    // Synchronous append: a line written before a kill -9 is on disk.
    appendFileSync(this.file, `${redact(line)}\n`);
  }
}
