/**
 * The run's own bookkeeping: plan, chunk states, attempts, timings, errors. An embedded SQLite file
 * (`state.db` in the job's state folder) that a person can open with `sqlite3` and read.
 *
 * It is not what decides whether a chunk is done: the `_ferry_chunks` marker committed in the
 * target with the chunk's rows is. On resume the engine reads the markers and brings this store
 * in line, so a kill -9 between a commit and its bookkeeping loses nothing and redoes nothing.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { fromJson, toJson } from '../core/key-codec.js';
import type { Plan } from './plan-types.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'abandoned';
export type ChunkStatus = 'pending' | 'running' | 'done' | 'failed';
export type StreamStatus = 'pending' | 'running' | 'done' | 'failed' | 'mismatch';

export interface RunRecord {
  runId: string;
  jobHash: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  plan: Plan;
  error: string | null;
}

export interface ChunkRecord {
  stream: string;
  chunkId: string;
  status: ChunkStatus;
  rows: number | null;
  attempts: number;
  lastError: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StreamRecord {
  stream: string;
  status: StreamStatus;
  sourceRows: number | null;
  targetRows: number | null;
  rowsWritten: number | null;
  error: string | null;
  createdTarget: boolean;
  startedAt: string | null;
  finishedAt: string | null;
}

const now = () => new Date().toISOString();

export class StateStore {
  private constructor(
    private readonly db: BetterSqlite3.Database,
    readonly file: string,
  ) {}

  static async open(dir: string): Promise<StateStore> {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'state.db');
    const Ctor = (await import('better-sqlite3')).default;
    const db = new Ctor(file);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
    db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY, job_hash TEXT NOT NULL, status TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, plan TEXT NOT NULL, error TEXT);
      CREATE TABLE IF NOT EXISTS streams (
        run_id TEXT NOT NULL, stream TEXT NOT NULL, status TEXT NOT NULL,
        source_rows INTEGER, target_rows INTEGER, rows_written INTEGER, error TEXT,
        created_target INTEGER NOT NULL DEFAULT 0, started_at TEXT, finished_at TEXT,
        PRIMARY KEY (run_id, stream));
      CREATE TABLE IF NOT EXISTS chunks (
        run_id TEXT NOT NULL, stream TEXT NOT NULL, chunk_id TEXT NOT NULL, status TEXT NOT NULL,
        rows INTEGER, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        started_at TEXT, finished_at TEXT, rejects INTEGER NOT NULL DEFAULT 0, policy_counts TEXT,
        PRIMARY KEY (run_id, stream, chunk_id));
    `);
    return new StateStore(db, file);
  }

  /** The newest run that did not complete (a resume candidate), if any. */
  unfinishedRun(): RunRecord | undefined {
    const r = this.db
      .prepare(`SELECT * FROM runs WHERE status IN ('running', 'failed') ORDER BY started_at DESC LIMIT 1`)
      .get() as Record<string, string | null> | undefined;
    return r ? this.toRun(r) : undefined;
  }

  lastRun(): RunRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM runs ORDER BY started_at DESC LIMIT 1`).get() as
      | Record<string, string | null>
      | undefined;
    return r ? this.toRun(r) : undefined;
  }

  /** The newest completed run (whose plan `verify` reuses for chunk ranges). */
  lastCompletedRun(): RunRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM runs WHERE status = 'completed' ORDER BY started_at DESC LIMIT 1`).get() as
      | Record<string, string | null>
      | undefined;
    return r ? this.toRun(r) : undefined;
  }

  private toRun(r: Record<string, string | null>): RunRecord {
    return {
      runId: r.run_id as string,
      jobHash: r.job_hash as string,
      status: r.status as RunStatus,
      startedAt: r.started_at as string,
      finishedAt: r.finished_at,
      plan: fromJson<Plan>(r.plan as string),
      error: r.error,
    };
  }

  createRun(runId: string, plan: Plan): void {
    const tx = this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO runs (run_id, job_hash, status, started_at, plan) VALUES (?, ?, 'running', ?, ?)`)
        .run(runId, plan.jobHash, now(), toJson(plan));
      const s = this.db.prepare(`INSERT INTO streams (run_id, stream, status) VALUES (?, ?, 'pending')`);
      const c = this.db.prepare(`INSERT INTO chunks (run_id, stream, chunk_id, status) VALUES (?, ?, ?, 'pending')`);
      for (const stream of plan.streams) {
        s.run(runId, stream.name);
        for (const chunk of stream.chunks) c.run(runId, stream.name, chunk.id);
      }
    });
    tx();
  }

  /** Replaces a run's stored plan (a resume found that files of a files source changed). */
  updatePlan(runId: string, plan: Plan): void {
    this.db.prepare(`UPDATE runs SET plan = ? WHERE run_id = ?`).run(toJson(plan), runId);
  }

  setRunStatus(runId: string, status: RunStatus, error: string | null = null): void {
    this.db
      .prepare(`UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE run_id = ?`)
      .run(status, error, status === 'running' ? null : now(), runId);
  }

  chunkStarted(runId: string, stream: string, chunkId: string): void {
    this.db
      .prepare(
        `UPDATE chunks SET status = 'running', attempts = attempts + 1, started_at = ? WHERE run_id = ? AND stream = ? AND chunk_id = ?`,
      )
      .run(now(), runId, stream, chunkId);
  }

  chunkDone(
    runId: string,
    stream: string,
    chunkId: string,
    rows: number,
    rejects = 0,
    policyCounts: Record<string, number> = {},
  ): void {
    this.db
      .prepare(
        `UPDATE chunks SET status = 'done', rows = ?, rejects = ?, policy_counts = ?, last_error = NULL, finished_at = ?
          WHERE run_id = ? AND stream = ? AND chunk_id = ?`,
      )
      .run(rows, rejects, JSON.stringify(policyCounts), now(), runId, stream, chunkId);
  }

  /** Values changed by each policy over a stream's done chunks (for the ledger). */
  policyCounts(runId: string, stream: string): Record<string, number> {
    const out: Record<string, number> = {};
    const rows = this.db
      .prepare(`SELECT policy_counts FROM chunks WHERE run_id = ? AND stream = ? AND status = 'done'`)
      .all(runId, stream) as { policy_counts: string | null }[];
    for (const r of rows) {
      for (const [k, n] of Object.entries(JSON.parse(r.policy_counts ?? '{}') as Record<string, number>)) {
        out[k] = (out[k] ?? 0) + n;
      }
    }
    return out;
  }

  chunkFailed(runId: string, stream: string, chunkId: string, error: string, final: boolean): void {
    this.db
      .prepare(`UPDATE chunks SET status = ?, last_error = ? WHERE run_id = ? AND stream = ? AND chunk_id = ?`)
      .run(final ? 'failed' : 'running', error, runId, stream, chunkId);
  }

  /** Brings chunk states in line with the target's markers (the truth) before a resume. */
  reconcile(runId: string, stream: string, committed: Map<string, number>): void {
    const tx = this.db.transaction(() => {
      this.db
        .prepare(`UPDATE chunks SET status = 'pending' WHERE run_id = ? AND stream = ? AND status <> 'pending'`)
        .run(runId, stream);
      const done = this.db.prepare(
        `UPDATE chunks SET status = 'done', rows = ?, last_error = NULL, finished_at = coalesce(finished_at, ?) WHERE run_id = ? AND stream = ? AND chunk_id = ?`,
      );
      for (const [chunkId, rows] of committed) done.run(rows, now(), runId, stream, chunkId);
    });
    tx();
  }

  updateStream(runId: string, stream: string, fields: Partial<Omit<StreamRecord, 'stream'>>): void {
    const cols: Record<string, unknown> = {
      status: fields.status,
      source_rows: fields.sourceRows,
      target_rows: fields.targetRows,
      rows_written: fields.rowsWritten,
      error: fields.error,
      created_target: fields.createdTarget === undefined ? undefined : fields.createdTarget ? 1 : 0,
      started_at: fields.startedAt,
      finished_at: fields.finishedAt,
    };
    const set = Object.entries(cols).filter(([, v]) => v !== undefined);
    if (set.length === 0) return;
    this.db
      .prepare(`UPDATE streams SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE run_id = ? AND stream = ?`)
      .run(...set.map(([, v]) => v), runId, stream);
  }

  streams(runId: string): StreamRecord[] {
    const rows = this.db.prepare(`SELECT * FROM streams WHERE run_id = ? ORDER BY rowid`).all(runId) as Record<
      string,
      unknown
    >[];
    return rows.map((r) => ({
      stream: r.stream as string,
      status: r.status as StreamStatus,
      sourceRows: r.source_rows as number | null,
      targetRows: r.target_rows as number | null,
      rowsWritten: r.rows_written as number | null,
      error: r.error as string | null,
      createdTarget: r.created_target === 1,
      startedAt: r.started_at as string | null,
      finishedAt: r.finished_at as string | null,
    }));
  }

  chunks(runId: string, stream?: string): ChunkRecord[] {
    const rows = (
      stream === undefined
        ? this.db.prepare(`SELECT * FROM chunks WHERE run_id = ? ORDER BY stream, chunk_id`).all(runId)
        : this.db.prepare(`SELECT * FROM chunks WHERE run_id = ? AND stream = ? ORDER BY chunk_id`).all(runId, stream)
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      stream: r.stream as string,
      chunkId: r.chunk_id as string,
      status: r.status as ChunkStatus,
      rows: r.rows as number | null,
      attempts: r.attempts as number,
      lastError: r.last_error as string | null,
      startedAt: r.started_at as string | null,
      finishedAt: r.finished_at as string | null,
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
