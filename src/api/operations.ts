/**
 * The library API: plan, run, verify, status. The CLI is a thin layer over these. Each takes a job
 * (a path to a job file, or a Job from `loadJob`/`jobFromObject`) and opens and closes its own
 * connections.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Job, loadJob } from '../config/load-job.js';
import { openConnector } from '../connectors/registry.js';
import type { Connector } from '../core/connector.js';
import { ConfigError } from '../core/errors.js';
import { RunLogger } from '../core/logger.js';
import { executeRun, type Ledger, type RunEvent, stagingRef } from '../engine/executor.js';
import type { Plan } from '../engine/plan-types.js';
import { buildPlan, declareStreams } from '../engine/planner.js';
import { type ChunkRecord, type RunRecord, StateStore, type StreamRecord } from '../engine/state-store.js';
import { type StreamVerify, type VerifyReport, verifyPlan } from '../engine/verifier.js';

export type JobInput = string | Job;

function resolveJob(input: JobInput): Job {
  return typeof input === 'string' ? loadJob(input) : input;
}

async function withConnectors<T>(job: Job, fn: (source: Connector, target: Connector) => Promise<T>): Promise<T> {
  const baseDir = path.dirname(path.resolve(job.origin === '<inline>' ? '.' : job.origin));
  // Chunks in flight plus one for planning/counting/finalising alongside them.
  const options = { maxConnections: job.parallel + 2, baseDir, applicationName: `ferry ${job.name}` };
  const source = await openConnector(job.source, 'source', options);
  let target: Connector | undefined;
  try {
    target = await openConnector(job.target, 'target', options);
    await source.introspector.ping();
    await target.introspector.ping();
    return await fn(source, target);
  } finally {
    await target?.close();
    await source.close();
  }
}

/** Computes what a run would do, writing nothing. */
export async function plan(input: JobInput): Promise<Plan> {
  const job = resolveJob(input);
  return withConnectors(job, (source, target) => buildPlan(job, source, target));
}

export interface RunOptions {
  /** Abandon an unfinished earlier run instead of resuming it (drops its staging tables). */
  fresh?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Called once the plan is known (new or resumed). */
  onPlan?: (plan: Plan, runId: string, resumed: boolean) => void;
}

function newRunId(): string {
  const ts = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${ts}-${randomBytes(3).toString('hex')}`;
}

/**
 * Runs the job. An unfinished earlier run of the same job is resumed: its chunks committed in the
 * target are kept, the rest are done. Resolves with the ledger; throws only for errors that stop
 * everything (config, connection).
 */
export async function run(input: JobInput, options: RunOptions = {}): Promise<Ledger> {
  const job = resolveJob(input);
  return withConnectors(job, async (source, target) => {
    // A first run plans before its state folder is created: a job that fails planning leaves nothing.
    const firstPlan = existsSync(path.join(job.stateDir, 'state.db'))
      ? undefined
      : await buildPlan(job, source, target, { profile: 'decisive' });
    const state = await StateStore.open(job.stateDir);
    let unlock: (() => void) | undefined;
    try {
      unlock = lockJob(job.stateDir);
      let unfinished = state.unfinishedRun();
      if (unfinished && options.fresh) {
        for (const sp of unfinished.plan.streams) {
          if (sp.mode === 'full-refresh') await target.writer.dropTable(stagingRef(unfinished.runId, sp));
        }
        state.setRunStatus(unfinished.runId, 'abandoned', 'abandoned by --fresh');
        unfinished = undefined;
      }
      if (unfinished && unfinished.jobHash !== job.hash) {
        throw new ConfigError(
          `the job changed since run ${unfinished.runId}, which did not finish; it cannot be resumed with a different job`,
          { hint: 'undo the change to resume it, or run with --fresh to abandon it' },
        );
      }
      let runId: string;
      let thePlan: Plan;
      const resumed = unfinished !== undefined;
      if (unfinished) {
        runId = unfinished.runId;
        thePlan = unfinished.plan;
        // The chunks are the stored plan's; how many run at once is this run's choice.
        thePlan.parallel = Math.max(
          1,
          Math.min(job.parallel, source.capabilities.maxReaders, target.capabilities.maxWriters),
        );
        declareStreams(job, source);
        state.setRunStatus(runId, 'running');
      } else {
        thePlan = firstPlan ?? (await buildPlan(job, source, target, { profile: 'decisive' }));
        runId = newRunId();
        state.createRun(runId, thePlan);
      }
      options.onPlan?.(thePlan, runId, resumed);
      const logger = new RunLogger(path.join(job.stateDir, 'runs'), runId);
      try {
        return await executeRun(thePlan, runId, resumed, source, target, state, logger, {
          ...options,
          rejectsDir: path.join(job.stateDir, 'rejects', runId),
        });
      } catch (err) {
        logger.log('error', 'run-stopped', { error: err instanceof Error ? err.message : String(err) });
        state.setRunStatus(runId, 'failed', err instanceof Error ? err.message : String(err));
        throw err;
      }
    } finally {
      unlock?.();
      state.close();
    }
  });
}

/**
 * One `ferry run` of a job at a time: a second one would resume the same run concurrently. The
 * lock file holds the owner's pid; a lock left by a killed process (pid gone) is taken over.
 */
function lockJob(stateDir: string): () => void {
  const file = path.join(stateDir, 'run.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new ConfigError(`another ferry run of this job is in progress (pid ${pid})`, {
          hint: `wait for it, or stop it; the lock is ${file}`,
        });
      }
      rmSync(file, { force: true });
    }
  }
  throw new ConfigError(`cannot take the run lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface VerifyApiOptions {
  onStream?: (s: StreamVerify) => void;
}

/** Compares source and target chunk by chunk (counts and content digests). */
export async function verify(input: JobInput, options: VerifyApiOptions = {}): Promise<VerifyReport> {
  const job = resolveJob(input);
  return withConnectors(job, async (source, target) => {
    const thePlan = await buildPlan(job, source, target);
    thePlan.parallel = Math.max(
      1,
      Math.min(job.parallel, source.capabilities.maxReaders, target.capabilities.maxReaders),
    );
    return verifyPlan(thePlan, source, target, options);
  });
}

export interface StatusReport {
  stateFile: string;
  run: Omit<RunRecord, 'plan'> | null;
  streams: (StreamRecord & { chunks: Record<ChunkRecord['status'], number>; lastError: string | null })[];
}

/** What the state store says about the newest run; opens no database connection. */
export async function status(input: JobInput): Promise<StatusReport> {
  const job = resolveJob(input);
  // Never create the state folder just to say that nothing ran.
  if (!existsSync(path.join(job.stateDir, 'state.db'))) {
    return { stateFile: path.join(job.stateDir, 'state.db'), run: null, streams: [] };
  }
  const state = await StateStore.open(job.stateDir);
  try {
    const last = state.lastRun();
    if (!last) return { stateFile: state.file, run: null, streams: [] };
    const { plan: _plan, ...run } = last;
    const streams = state.streams(last.runId).map((s) => {
      const chunks = state.chunks(last.runId, s.stream);
      const counts = { pending: 0, running: 0, done: 0, failed: 0 };
      for (const c of chunks) counts[c.status]++;
      const lastError =
        chunks
          .filter((c) => c.lastError)
          .map((c) => `${c.chunkId}: ${c.lastError}`)
          .pop() ?? null;
      return { ...s, chunks: counts, lastError: s.error ?? lastError };
    });
    return { stateFile: state.file, run, streams };
  } finally {
    state.close();
  }
}
