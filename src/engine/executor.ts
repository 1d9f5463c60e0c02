/**
 * Runs a plan: chunks of all streams through a pool of `parallel` workers, each chunk one
 * transaction in the target with its marker; transient errors retried per chunk with backoff;
 * a stream is finalised (swap or index build) as soon as its last chunk commits; a ledger at the end.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChunkWrite, Connector, ReadRequest, RowBatch, SourcePart, TargetTable } from '../core/connector.js';
import {
  AlreadyCommittedError,
  errorMessage,
  FerryError,
  isTransient,
  RawUnfit,
  TerminalError,
} from '../core/errors.js';
import { displayTable, type TableRef } from '../core/identifiers.js';
import type { RunLogger } from '../core/logger.js';
import type { LogicalType } from '../core/logical-types.js';
import type { ChunkPlan, Plan, StreamPlan } from './plan-types.js';
import { ChunkRejects, joinRejects, rawText } from './rejects.js';
import { backoffMs, sleep } from './retry.js';
import type { StateStore } from './state-store.js';
import { type ColumnStage, type PolicyCounts, stageRows, streamStages } from './transforms.js';

export type StreamOutcome = 'ok' | 'failed' | 'mismatch' | 'skipped';

/** One line of the ledger: what happened to one stream. */
export interface StreamLedger {
  stream: string;
  target: string;
  mode: StreamPlan['mode'];
  status: StreamOutcome;
  /** count(*) of the source table after the load. */
  sourceRows: number | null;
  /** count(*) of the target table after the load. */
  targetRows: number | null;
  /** Rows committed by this run's chunks (from the target's markers). */
  rowsWritten: number;
  chunks: number;
  /** Chunks found committed by an earlier attempt of this run (a resume) and not redone. */
  chunksResumed: number;
  retries: number;
  seconds: number;
  passThrough: string | null;
  /** Rows set aside (not written), with their reasons in `rejectsFile`. */
  rejects: number;
  rejectsFile?: string | null;
  /** Values changed by a policy (e.g. `invalid_dates: 3` zero dates written as NULL). */
  policyCounts: Record<string, number>;
  error?: string;
}

export interface Ledger {
  runId: string;
  resumed: boolean;
  status: 'ok' | 'failed';
  streams: StreamLedger[];
  seconds: number;
  stateFile: string;
  logFile: string | null;
}

export type RunEvent =
  | {
      type: 'stream-start';
      stream: string;
      chunks: number;
      chunksDone: number;
      rowsDone: number;
      estimatedRows: number;
    }
  | { type: 'rows'; stream: string; rows: number }
  /** The stream's first chunk copied by rows (decoded values) rather than as raw bytes. */
  | { type: 'row-path'; stream: string }
  | { type: 'chunk-done'; stream: string; chunk: string; rows: number }
  | { type: 'chunk-retry'; stream: string; chunk: string; attempt: number; error: string; delayMs: number }
  | { type: 'stream-finalizing'; stream: string }
  | { type: 'files-changed'; stream: string; files: string[] }
  | { type: 'source-changed'; stream: string }
  | { type: 'stream-done'; ledger: StreamLedger };

export interface ExecuteOptions {
  signal?: AbortSignal;
  /** Folder of this run's rejects files (default: a temp folder). */
  rejectsDir?: string;
  onEvent?: (e: RunEvent) => void;
}

/** Staging table of a full-refresh stream: short (fits 63 bytes), stable for the run, in the target schema. */
export function stagingRef(runId: string, sp: StreamPlan): TableRef {
  const h = createHash('sha1').update(`${runId}|${sp.name}`).digest('hex').slice(0, 12);
  return { schema: sp.target.schema, name: `_ferry_stage_${h}` };
}

function targetTable(sp: StreamPlan): TargetTable {
  return {
    ref: sp.target,
    columns: sp.columns.map((c) => c.target),
    primaryKey: sp.primaryKey,
    indexes: sp.indexes,
    layout: sp.layout,
  };
}

interface StreamRun {
  sp: StreamPlan;
  pending: ChunkPlan[];
  remaining: number;
  /** Pending chunks no worker has taken yet. */
  unstarted: number;
  /** The source's count(*), started once the stream's last chunk has started (see countSource). */
  sourceCount: Promise<number | null> | null;
  failed: FerryError | null;
  retries: number;
  resumed: number;
  createdTarget: boolean;
  started: number;
  finished: boolean;
  loadInto: TableRef;
  /** Rejected rows in committed chunks plus in chunks being written (for the max_rejects budget). */
  committedRejects: number;
  inflightRejects: number;
  stages: (ColumnStage | null)[];
  /** Chunks pass bytes through (the plan's format, if the writer takes it on this server). */
  raw: boolean;
  /** Whether a chunk of this stream has gone by rows yet (the `row-path` event is sent once). */
  rowPath: boolean;
  /** Raw chunks handed back to the row path (RawUnfit); past RAW_UNFIT_LIMIT the stream goes by rows. */
  unfitChunks: number;
}

/**
 * Raw chunks of a stream that may meet a value they cannot carry before its remaining chunks go by
 * rows from the start: each such chunk costs a partial read and a rollback.
 */
const RAW_UNFIT_LIMIT = 3;

export async function executeRun(
  plan: Plan,
  runId: string,
  resumed: boolean,
  source: Connector,
  target: Connector,
  state: StateStore,
  logger: RunLogger,
  options: ExecuteOptions = {},
): Promise<Ledger> {
  const t0 = Date.now();
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal;
  const writer = target.writer;

  /** A step outside chunks (preparation, swap, counts) with the same retry policy as chunks. */
  async function withRetry<T>(sp: StreamPlan | null, what: string, fn: () => Promise<T>): Promise<T> {
    const maxAttempts = sp?.maxAttempts ?? Math.max(...plan.streams.map((s) => s.maxAttempts), 1);
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isTransient(err) || attempt >= maxAttempts || signal?.aborted) throw err;
        logger.log('warn', 'step-retry', { stream: sp?.name, step: what, attempt, error: errorMessage(err) });
        await sleep(backoffMs(attempt), signal);
      }
    }
  }

  await withRetry(null, 'chunk ledger', () => writer.ensureChunkLedger());
  logger.log('info', 'run-start', {
    runId,
    resumed,
    source: plan.source,
    target: plan.target,
    parallel: plan.parallel,
  });

  const runs: StreamRun[] = [];
  const ledgers = new Map<string, StreamLedger>();
  const previous = new Map(state.streams(runId).map((s) => [s.stream, s]));

  /**
   * Reconciles a stream with the target's markers and creates its staging or target table.
   * Idempotent, so a transient failure is retried whole. Resolves with the committed chunks, or
   * undefined when the stream was already finished (swapped or marked done) by this run.
   */
  async function prepareStream(run: StreamRun): Promise<Map<string, number> | undefined> {
    const sp = run.sp;
    if (await writer.streamFinished(runId, sp.name)) {
      run.finished = true;
      run.resumed = sp.chunks.length;
      return undefined;
    }
    let markers = await writer.committedChunks(runId, sp.name);
    if (sp.chunks.some((c) => c.part) && (await refreshParts(sp, markers))) {
      markers = await writer.committedChunks(runId, sp.name);
    }
    if (sp.pageVersion && markers.size > 0 && (await refreshPages(sp))) {
      markers = await writer.committedChunks(runId, sp.name);
    }
    const committed = new Map([...markers].map(([id, m]) => [id, m.rows]));
    run.committedRejects = [...markers.values()].reduce((a, m) => a + m.rejects, 0);
    state.reconcile(runId, sp.name, committed);
    run.resumed = committed.size;
    run.pending = sp.chunks.filter((c) => !committed.has(c.id));
    run.remaining = run.pending.length;
    run.unstarted = run.pending.length;
    if (sp.mode === 'full-refresh') {
      await writer.forgetRuns(sp.name, runId);
      if (!target.capabilities.stagingTable) {
        // A files target writes into the stream's own place; swapIn publishes the run's files.
        await writer.createTable(targetTable(sp), { primaryKey: false, ifNotExists: true });
      } else if (!(await writer.tableExists(run.loadInto))) {
        // Every chunk committed and the staging table gone: the swap may have happened without its
        // marker (targets whose DDL is not transactional); swapIn decides.
        if (committed.size > 0 && run.pending.length === 0) return committed;
        if (committed.size > 0) {
          throw new TerminalError(`staging table ${displayTable(run.loadInto)} of this run is gone`, {
            hint: 'rerun with --fresh to start the stream over',
          });
        }
        await writer.createTable(
          { ...targetTable(sp), ref: run.loadInto },
          { primaryKey: target.capabilities.keyWhileLoading && source.capabilities.keyOrderReads, ifNotExists: true },
        );
      }
    } else if (!(await writer.tableExists(sp.target))) {
      await writer.createTable(targetTable(sp), { primaryKey: true, ifNotExists: true });
      run.createdTarget = true;
      state.updateStream(runId, sp.name, { createdTarget: true });
    } else {
      const have = new Set(await writer.existingColumns(sp.target));
      const missing = sp.columns.filter((c) => !have.has(c.target.name)).map((c) => c.target.name);
      if (missing.length > 0) {
        throw new TerminalError(`target ${displayTable(sp.target)} has no column ${missing.join(', ')}`, {
          column: missing[0],
          hint: 'add the columns to the target table, or choose the columns to copy with columns: [...]',
        });
      }
    }
    return committed;
  }

  /**
   * A files source on resume: the stream's files are listed again and compared with the plan's.
   * A file not loaded yet is read as it is now. A file already loaded that changed since (size or
   * etag) must be loaded again and never twice: a full refresh starts the stream's staging table
   * over (its rows cannot be told apart by file); an append, whose rows are in the target, fails.
   * Files added since the plan are left to the next run. Returns true when markers were dropped.
   */
  async function refreshParts(sp: StreamPlan, markers: Map<string, unknown>): Promise<boolean> {
    if (!source.introspector.parts || markers.size === 0) return false;
    const now = new Map((await source.introspector.parts(sp.source)).map((p) => [p.path, p]));
    const changed: string[] = [];
    const updates: [ChunkPlan, SourcePart][] = [];
    for (const c of sp.chunks) {
      if (!c.part) continue;
      const cur = now.get(c.part.path);
      if (cur && cur.size === c.part.size && cur.etag === c.part.etag) continue;
      if (markers.has(c.id)) changed.push(`${c.part.path} (chunk ${c.id}${cur ? '' : ', now missing'})`);
      if (cur) updates.push([c, cur]);
    }
    const refuse = changed.length > 0 && (sp.mode !== 'full-refresh' || !target.capabilities.stagingTable);
    // A refused stream keeps the plan's versions: restoring the file is the way out.
    if (!refuse && updates.length > 0) {
      for (const [c, cur] of updates) c.part = cur;
      state.updatePlan(runId, plan);
    }
    if (changed.length === 0) return false;
    if (refuse) {
      throw new TerminalError(
        `files changed after they were loaded into ${displayTable(sp.target)}: ${changed.join(', ')}`,
        {
          stream: sp.name,
          hint: 'their rows are in the target already; restore the files, or rerun with --fresh (mode: full-refresh reloads everything)',
        },
      );
    }
    logger.log('warn', 'files-changed', { stream: sp.name, files: changed });
    emit({ type: 'files-changed', stream: sp.name, files: changed });
    await writer.dropTable(stagingRef(runId, sp));
    await writer.forgetRuns(sp.name, '');
    return true;
  }

  /**
   * Chunks by page ranges on resume: the chunks committed by an earlier process read another
   * snapshot than this one will. If rows may have moved between pages since the plan (the source's
   * page version changed), a row could be read twice or never: the stream starts over (page chunks
   * are planned only for a full refresh into a staging table). Returns true when markers were dropped.
   */
  async function refreshPages(sp: StreamPlan): Promise<boolean> {
    const now = await source.introspector.pageVersion!(sp.source);
    if (now === sp.pageVersion) return false;
    logger.log('warn', 'source-changed', {
      stream: sp.name,
      note: 'rows changed since the run began; its chunks are page ranges, so the stream starts over',
    });
    emit({ type: 'source-changed', stream: sp.name });
    await writer.dropTable(stagingRef(runId, sp));
    await writer.forgetRuns(sp.name, '');
    sp.pageVersion = now;
    state.updatePlan(runId, plan);
    return true;
  }

  // Prepare every stream first: reconcile with the target's markers, create staging/target tables.
  for (const sp of plan.streams) {
    const run: StreamRun = {
      sp,
      pending: [],
      remaining: 0,
      unstarted: 0,
      sourceCount: null,
      failed: null,
      retries: 0,
      resumed: 0,
      createdTarget: previous.get(sp.name)?.createdTarget ?? false,
      started: Date.now(),
      finished: false,
      loadInto: sp.mode === 'full-refresh' && target.capabilities.stagingTable ? stagingRef(runId, sp) : sp.target,
      committedRejects: 0,
      inflightRejects: 0,
      stages: streamStages(sp.columns, sp.policies, source, target),
      raw: false,
      rowPath: false,
      unfitChunks: 0,
    };
    runs.push(run);
    try {
      run.raw =
        sp.passThrough !== null &&
        source.reader.readRaw !== undefined &&
        writer.writeChunkRaw !== undefined &&
        (await (writer.acceptsRaw?.(sp.passThrough) ?? true));
      const committed = await withRetry(sp, 'prepare', () => prepareStream(run));
      if (!committed) continue;
      state.updateStream(runId, sp.name, { status: 'running', startedAt: new Date().toISOString() });
      emit({
        type: 'stream-start',
        stream: sp.name,
        chunks: sp.chunks.length,
        chunksDone: committed.size,
        rowsDone: [...committed.values()].reduce((a, b) => a + b, 0),
        estimatedRows: sp.estimatedRows,
      });
      logger.log('info', 'stream-start', { stream: sp.name, chunks: sp.chunks.length, resumed: committed.size });
    } catch (err) {
      run.failed = wrap(err, sp.name);
      run.pending = [];
    }
  }

  /** Reject and policy counts of chunks just written (by stream and chunk: chunk ids repeat across streams). */
  const lastCounts = new Map<string, { rejects: number; counts: PolicyCounts }>();
  const rejectsDir = options.rejectsDir ?? path.join(tmpdir(), 'ferry-rejects', runId);

  const queue: { run: StreamRun; chunk: ChunkPlan }[] = runs.flatMap((run) =>
    run.pending.map((chunk) => ({ run, chunk })),
  );

  async function loadChunk(run: StreamRun, chunk: ChunkPlan): Promise<number> {
    const sp = run.sp;
    const keyCols = sp.chunkKey.map((k) => sp.columns.find((c) => c.source.name === k)!.source);
    const req: ReadRequest = {
      table: sp.source,
      columns: sp.columns.map((c) => c.source),
      key: keyCols,
      range: chunk.range,
      batchRows: sp.batchRows,
      part: chunk.part,
      pages: chunk.pages,
    };
    const w: ChunkWrite = {
      runId,
      stream: sp.name,
      chunkId: chunk.id,
      table: run.loadInto,
      columns: sp.columns.map((c) => c.target),
      layout: sp.layout,
      key: sp.chunkKey.map((k) => sp.columns.find((c) => c.source.name === k)!.target.name),
    };
    if (run.raw && sp.passThrough && run.unfitChunks < RAW_UNFIT_LIMIT) {
      const cross = source.dialect !== target.dialect;
      const raw = await source.reader.readRaw!(
        cross ? { ...req, targetTypes: sp.columns.map((c) => c.target.nativeType) } : req,
        sp.passThrough,
      );
      try {
        const rows = await writer.writeChunkRaw!(w, sp.passThrough, raw);
        emit({ type: 'rows', stream: sp.name, rows });
        return rows;
      } catch (err) {
        if (!(err instanceof RawUnfit)) throw err;
        // Rolled back; the row path below copies the chunk again, where the policies decide.
        run.unfitChunks++;
        logger.log('info', 'raw-unfit', { stream: sp.name, chunk: chunk.id, column: err.column });
      }
    }
    if (!run.rowPath) {
      run.rowPath = true;
      emit({ type: 'row-path', stream: sp.name });
    }
    const staged = run.stages.some((s) => s !== null);
    const castInDb = sp.columns.some((c) => c.target.fromText);
    const rejects = staged || castInDb ? new ChunkRejects(rejectsDir, sp.name, chunk.id) : undefined;
    const counts: PolicyCounts = {};
    w.rejects = () => rejects?.count ?? 0;
    const keyIdx = sp.chunkKey.map((k) => sp.columns.findIndex((c) => c.source.name === k));
    const budget = sp.maxRejects ?? 0;
    const logicalOf = (j: number): LogicalType =>
      sp.columns[j].source.text ? { kind: 'text' } : sp.columns[j].source.logical;
    /** Sets a row aside with its reason; fails the chunk once the stream is over its budget. */
    function reject(row: unknown[], i: number | null, reason: string, policy: string): void {
      const cols = sp.columns;
      const idx = keyIdx.length ? keyIdx : cols.map((_c, j) => j);
      rejects!.add({
        stream: sp.name,
        chunk: chunk.id,
        key: idx.map((j) => rawText(logicalOf(j), row[j])),
        column: i === null ? '' : cols[i].source.name,
        value: i === null ? null : rawText(logicalOf(i), row[i]),
        reason,
        policy,
        ...(chunk.part ? { file: chunk.part.path } : {}),
      });
      run.inflightRejects++;
      if (run.committedRejects + run.inflightRejects > budget) {
        throw new TerminalError(`more than max_rejects (${budget}) rows rejected; the last: ${reason}`, {
          stream: sp.name,
          chunk: chunk.id,
          column: i === null ? undefined : cols[i].source.name,
          hint: `see the rejects in ${rejectsDir}; raise max_rejects, or change the policy (${policy})`,
        });
      }
    }
    if (castInDb) {
      w.onReject = (row, column, reason) => {
        const i = column === null ? -1 : sp.columns.findIndex((c) => c.target.name === column);
        // The database names the staging table it loads; the user knows the target.
        reject(row, i < 0 ? null : i, reason.split(run.loadInto.name).join(sp.target.name), 'cast');
      };
    }
    async function* counted(): AsyncIterable<RowBatch> {
      for await (const b of source.reader.read(req, signal)) {
        emit({ type: 'rows', stream: sp.name, rows: b.rows.length });
        if (staged) b.rows = applyStages(b.rows);
        yield b;
      }
    }
    function applyStages(rows: unknown[][]): unknown[][] {
      return stageRows(run.stages, rows, counts, (row, i, v) => reject(row, i, v.reason, v.policy));
    }
    try {
      const rows = await writer.writeChunk(w, counted(), signal);
      run.committedRejects += rejects?.count ?? 0;
      lastCounts.set(`${sp.name}\u0000${chunk.id}`, { rejects: rejects?.count ?? 0, counts });
      return rows;
    } finally {
      run.inflightRejects -= rejects?.count ?? 0;
    }
  }

  async function runChunk(run: StreamRun, chunk: ChunkPlan): Promise<void> {
    const sp = run.sp;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new FerryError('interrupted');
      state.chunkStarted(runId, sp.name, chunk.id);
      const started = Date.now();
      try {
        let rows: number;
        try {
          rows = await loadChunk(run, chunk);
        } catch (err) {
          if (!(err instanceof AlreadyCommittedError)) throw err;
          rows = (await writer.committedChunks(runId, sp.name)).get(chunk.id)?.rows ?? 0;
          logger.log('info', 'chunk-already-committed', { stream: sp.name, chunk: chunk.id, rows });
          if (run.raw) emit({ type: 'rows', stream: sp.name, rows });
        }
        const extra = lastCounts.get(`${sp.name}\u0000${chunk.id}`);
        lastCounts.delete(`${sp.name}\u0000${chunk.id}`);
        state.chunkDone(runId, sp.name, chunk.id, rows, extra?.rejects ?? 0, extra?.counts ?? {});
        logger.log('info', 'chunk-done', { stream: sp.name, chunk: chunk.id, rows, attempt, ms: Date.now() - started });
        emit({ type: 'chunk-done', stream: sp.name, chunk: chunk.id, rows });
        return;
      } catch (err) {
        const message = errorMessage(err);
        const retry = isTransient(err) && attempt < sp.maxAttempts && !signal?.aborted;
        state.chunkFailed(runId, sp.name, chunk.id, message, !retry);
        if (!retry) {
          logger.log('error', 'chunk-failed', { stream: sp.name, chunk: chunk.id, attempt, error: message });
          throw wrap(err, sp.name, chunk.id);
        }
        const delayMs = backoffMs(attempt);
        run.retries++;
        logger.log('warn', 'chunk-retry', { stream: sp.name, chunk: chunk.id, attempt, error: message, delayMs });
        emit({ type: 'chunk-retry', stream: sp.name, chunk: chunk.id, attempt, error: message, delayMs });
        await sleep(delayMs, signal);
      }
    }
  }

  /**
   * The source's count(*), started once: when the stream's last chunk starts, or at its finish if
   * it had none left. It then runs beside the last chunks and the target's key build rather than
   * after them (on one MySQL server a count of the 5.18M-row table took 1.3 s, and the finish
   * waited for it). A source written to during the run still shows as before: rows added or
   * removed after their chunk was read and before the count make the counts differ. Its failure is
   * reported by finishStream.
   */
  function countSource(run: StreamRun): Promise<number | null> {
    if (!run.sourceCount) {
      run.sourceCount = withRetry(run.sp, 'count', () => source.introspector.count(run.sp.source, [], null));
      run.sourceCount.catch(() => {});
    }
    return run.sourceCount;
  }

  async function finishStream(run: StreamRun): Promise<void> {
    const sp = run.sp;
    const base: StreamLedger = {
      stream: sp.name,
      target: displayTable(sp.target),
      mode: sp.mode,
      status: 'failed',
      sourceRows: null,
      targetRows: null,
      rowsWritten: 0,
      chunks: sp.chunks.length,
      chunksResumed: run.resumed,
      retries: run.retries,
      seconds: (Date.now() - run.started) / 1000,
      passThrough: run.raw ? sp.passThrough : null,
      rejects: 0,
      policyCounts: {},
    };
    const sourceCount = run.failed ? Promise.resolve(null) : countSource(run);
    try {
      if (run.failed) throw run.failed;
      if (!run.finished) {
        emit({ type: 'stream-finalizing', stream: sp.name });
        const final = targetTable(sp);
        if (sp.mode === 'full-refresh') {
          await withRetry(sp, 'swap', () => writer.swapIn(run.loadInto, final, runId, sp.name));
        } else {
          await withRetry(sp, 'finish', () => writer.finishAppend(final, runId, sp.name, run.createdTarget));
        }
      }
      // The target is counted while the source count (if still going) finishes: on one MySQL
      // server the two full scans run side by side, not one after the other.
      const targetCount = withRetry(sp, 'count', () => target.introspector.count(sp.target, [], null));
      targetCount.catch(() => {});
      const committed = await withRetry(sp, 'markers', () => writer.committedChunks(runId, sp.name));
      const chunkMarkers = [...committed].filter(([id]) => !id.startsWith('__'));
      base.rowsWritten = chunkMarkers.reduce((a, [, m]) => a + m.rows, 0);
      base.rejects = chunkMarkers.reduce((a, [, m]) => a + m.rejects, 0);
      base.policyCounts = state.policyCounts(runId, sp.name);
      if (base.rejects > 0)
        base.rejectsFile = joinRejects(rejectsDir, sp.name, new Set(chunkMarkers.map(([id]) => id)));
      base.sourceRows = await sourceCount;
      base.targetRows = await targetCount;
      // Every source row is either written or rejected (with its reason in the rejects file).
      const accounted = base.rowsWritten + base.rejects;
      const equal = accounted === base.sourceRows && (sp.mode === 'append' || base.targetRows === base.rowsWritten);
      base.status = equal ? 'ok' : 'mismatch';
      if (!equal) {
        base.error = `counts differ: source ${base.sourceRows}, written ${base.rowsWritten}, rejected ${base.rejects}, target ${base.targetRows} (was the source written to during the run?)`;
      }
    } catch (err) {
      const e = wrap(err, sp.name);
      base.status = 'failed';
      base.error = e.describe();
    }
    base.seconds = (Date.now() - run.started) / 1000;
    state.updateStream(runId, sp.name, {
      status: base.status === 'ok' ? 'done' : base.status === 'mismatch' ? 'mismatch' : 'failed',
      sourceRows: base.sourceRows,
      targetRows: base.targetRows,
      rowsWritten: base.rowsWritten,
      error: base.error ?? null,
      finishedAt: new Date().toISOString(),
    });
    logger.log(base.status === 'ok' ? 'info' : 'error', 'stream-done', { ...base });
    ledgers.set(sp.name, base);
    emit({ type: 'stream-done', ledger: base });
  }

  // Streams with nothing left to load (all chunks committed before, or failed in preparation).
  for (const run of runs) if (run.remaining === 0) await finishStream(run);

  async function worker(): Promise<void> {
    for (;;) {
      const task = queue.shift();
      if (!task) return;
      const { run, chunk } = task;
      if (--run.unstarted === 0 && !run.failed && !signal?.aborted) countSource(run);
      // Chunks of a failed stream are skipped (not attempted) but still counted down, so the
      // stream's ledger line is written once its last in-flight chunk has ended.
      if (!run.failed && !signal?.aborted) {
        try {
          await runChunk(run, chunk);
        } catch (err) {
          if (!run.failed) run.failed = wrap(err, run.sp.name, chunk.id);
        }
      }
      run.remaining--;
      if (run.remaining === 0 && !signal?.aborted) await finishStream(run);
    }
  }
  await Promise.all(Array.from({ length: plan.parallel }, () => worker()));
  // A count started for a stream that then failed is not awaited by its finish: let it end here, so
  // no query is still running when the caller closes the connectors.
  await Promise.all(runs.map((r) => r.sourceCount?.catch(() => null)));

  if (signal?.aborted) throw new FerryError('interrupted');
  const streams = plan.streams.map((sp) => ledgers.get(sp.name)!);
  const ok = streams.every((s) => s.status === 'ok');
  state.setRunStatus(runId, ok ? 'completed' : 'failed', ok ? null : 'see streams');
  logger.log(ok ? 'info' : 'error', 'run-done', { runId, ok, seconds: (Date.now() - t0) / 1000 });
  return {
    runId,
    resumed,
    status: ok ? 'ok' : 'failed',
    streams,
    seconds: (Date.now() - t0) / 1000,
    stateFile: state.file,
    logFile: logger.file,
  };
}

function wrap(err: unknown, stream: string, chunk?: string): FerryError {
  if (err instanceof FerryError) {
    if (!err.context.stream) (err.context as { stream?: string }).stream = stream;
    if (chunk && !err.context.chunk) (err.context as { chunk?: string }).chunk = chunk;
    return err;
  }
  return new TerminalError(err instanceof Error ? err.message : String(err), { stream, chunk }, { cause: err });
}
