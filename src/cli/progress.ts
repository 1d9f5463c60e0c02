/** Live progress on a TTY (stderr): rows, rows/s and ETA per active stream, redrawn in place. */
import type { RunEvent } from '../engine/executor.js';
import { n } from './format.js';

interface StreamProgress {
  rows: number;
  estimated: number;
  chunks: number;
  chunksDone: number;
  started: number;
  state: 'loading' | 'finalizing' | 'done';
  status?: string;
}

export class Progress {
  private readonly streams = new Map<string, StreamProgress>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WriteStream) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  on(e: RunEvent): void {
    switch (e.type) {
      case 'stream-start':
        this.streams.set(e.stream, {
          rows: e.rowsDone,
          estimated: e.estimatedRows,
          chunks: e.chunks,
          chunksDone: e.chunksDone,
          started: Date.now(),
          state: 'loading',
        });
        break;
      case 'rows': {
        const s = this.streams.get(e.stream);
        if (s) s.rows += e.rows;
        break;
      }
      case 'chunk-done': {
        const s = this.streams.get(e.stream);
        if (s) s.chunksDone++;
        break;
      }
      case 'stream-finalizing': {
        const s = this.streams.get(e.stream);
        if (s) s.state = 'finalizing';
        break;
      }
      case 'stream-done': {
        const s = this.streams.get(e.ledger.stream);
        if (s) {
          s.state = 'done';
          s.status = e.ledger.status;
        }
        break;
      }
    }
  }

  private line(name: string, s: StreamProgress): string {
    const secs = Math.max(0.001, (Date.now() - s.started) / 1000);
    const rate = s.rows / secs;
    const est = s.estimated > 0 ? ` / ~${n(s.estimated)}` : '';
    let tail = '';
    if (s.state === 'finalizing') tail = 'building keys and swapping in';
    else if (s.state === 'done') tail = s.status ?? 'done';
    else if (s.estimated > s.rows && rate > 0) tail = `ETA ${Math.ceil((s.estimated - s.rows) / rate)}s`;
    return `${name}  ${n(s.rows)}${est} rows  ${n(Math.round(rate))} rows/s  chunks ${s.chunksDone}/${s.chunks}  ${tail}`;
  }

  draw(): void {
    const lines = [...this.streams].map(([name, s]) => this.line(name, s));
    let text = '';
    if (this.drawn > 0) text += `\x1b[${this.drawn}A`;
    for (const l of lines) text += `\x1b[2K${l.slice(0, (this.out.columns ?? 120) - 1)}\n`;
    this.out.write(text);
    this.drawn = lines.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.draw();
  }
}
