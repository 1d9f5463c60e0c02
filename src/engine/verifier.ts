/**
 * `ferry verify`: reads every chunk range on both sides, hashes each row's canonical values into an
 * order-independent digest (see core/canonical.ts), and compares counts and digests chunk by
 * chunk. A mismatch names the chunk's key range, so the difference can be found and redone.
 */
import { canonicalValue, RowSetDigest } from '../core/canonical.js';
import type { ColumnInfo, Connector, KeyTuple, ReadRequest, TableInfo } from '../core/connector.js';
import { errorMessage } from '../core/errors.js';
import { displayTable } from '../core/identifiers.js';
import type { LogicalType } from '../core/logical-types.js';
import type { Plan, StreamPlan } from './plan-types.js';
import { type ColumnStage, stageRows, streamStages } from './transforms.js';

export interface ChunkMismatch {
  chunk: string;
  /** Canonical text of the range bounds, `null` for an open end. */
  lo: (string | null)[] | null;
  hi: (string | null)[] | null;
  sourceRows: number;
  targetRows: number;
  sourceHash: string;
  targetHash: string;
}

export interface StreamVerify {
  stream: string;
  target: string;
  status: 'equal' | 'mismatch' | 'missing' | 'error';
  chunks: number;
  sourceRows: number;
  targetRows: number;
  /** Source rows a policy rejects (they are in the rejects file, not in the target). */
  rejected: number;
  mismatches: ChunkMismatch[];
  seconds: number;
  error?: string;
  /** Set when chunks differ only because the two dialects order text keys differently. */
  note?: string;
  /** What the target's own audit found (a lake file missing, or not in the manifest). */
  problems?: string[];
}

export interface VerifyReport {
  status: 'equal' | 'mismatch';
  streams: StreamVerify[];
  seconds: number;
}

export interface VerifyOptions {
  onStream?: (s: StreamVerify) => void;
}

/**
 * Digest of a range. Source rows first go through the same transforms and policies as a run, so
 * the target is compared with the source as the plan said it would arrive; rows a policy rejects
 * are counted apart (they are in the rejects file, not in the target).
 */
async function digest(
  conn: Connector,
  req: ReadRequest,
  types: readonly LogicalType[],
  stages?: readonly (ColumnStage | null)[],
): Promise<{ d: RowSetDigest; rejected: number }> {
  const d = new RowSetDigest();
  let rejected = 0;
  const staged = stages?.some((s) => s !== null);
  for await (const batch of conn.reader.read(req)) {
    const rows = staged ? stageRows(stages!, batch.rows, {}, () => rejected++) : batch.rows;
    for (const row of rows) d.add(types, row);
  }
  return { d, rejected };
}

function showBound(key: readonly ColumnInfo[], t: KeyTuple | null): (string | null)[] | null {
  return t ? key.map((c, i) => canonicalValue(c.logical, t[i])) : null;
}

async function verifyStream(
  sp: StreamPlan,
  source: Connector,
  target: Connector,
  parallel: number,
): Promise<StreamVerify> {
  const t0 = Date.now();
  const out: StreamVerify = {
    stream: sp.name,
    target: displayTable(sp.target),
    status: 'equal',
    chunks: sp.chunks.length,
    sourceRows: 0,
    targetRows: 0,
    rejected: 0,
    mismatches: [],
    seconds: 0,
  };
  let tinfo: TableInfo;
  try {
    tinfo = await target.introspector.describe(sp.target);
  } catch (err) {
    out.status = 'missing';
    out.error = errorMessage(err);
    return out;
  }
  const srcCols = sp.columns.map((c) => c.source);
  const tgtCols: ColumnInfo[] = [];
  for (const c of sp.columns) {
    const t = tinfo.columns.find((x) => x.name === c.target.name);
    if (!t) {
      out.status = 'missing';
      out.error = `target has no column ${c.target.name}`;
      return out;
    }
    // Read as the type the plan wrote (a MySQL tinyint(1) that holds a boolean, a datetime(6) that
    // holds a UTC timestamptz): the target's own mapping knows neither.
    tgtCols.push({ ...t, logical: c.target.logical });
  }
  // Text a database cast (a files source) is cast here as it did, so the values compare.
  const stages = streamStages(sp.columns, sp.policies, source, target, true);
  // Source values are hashed as the target type they become (e.g. tinyint(1) as boolean).
  const srcTypes = sp.columns.map((c) => c.target.logical);
  const tgtTypes = tgtCols.map((c) => c.logical);
  const srcKey = sp.chunkKey.map((k) => srcCols.find((c) => c.name === k)!);
  const tgtKey = sp.chunkKey.map((k) => tgtCols[srcCols.findIndex((c) => c.name === k)]);
  const queue = [...sp.chunks];
  const srcTotal = new RowSetDigest();
  // A target read only whole (a lake) is read once, beside the source's chunks.
  // A files source's chunks are files: the target cannot read "the rows of a file", so the target
  // is read whole once and compared with the sum of the files.
  // So is a stream chunked by the source's pages: the target's pages hold other rows.
  const byRange = target.capabilities.rangeReads && !sp.chunks.some((c) => c.part || c.pages);
  const whole = byRange ? null : digest(target, { table: sp.target, columns: tgtCols, key: [], range: null }, tgtTypes);
  whole?.catch(() => {});
  const workers = Array.from({ length: Math.max(1, parallel) }, async () => {
    for (;;) {
      const chunk = queue.shift();
      if (!chunk) return;
      const [sd, td] = await Promise.all([
        digest(
          source,
          { table: sp.source, columns: srcCols, key: srcKey, range: chunk.range, part: chunk.part, pages: chunk.pages },
          srcTypes,
          stages,
        ),
        byRange
          ? digest(target, { table: sp.target, columns: tgtCols, key: tgtKey, range: chunk.range }, tgtTypes)
          : null,
      ]);
      const s = sd.d;
      srcTotal.merge(s);
      out.rejected += sd.rejected;
      out.sourceRows += s.count;
      if (!td) continue;
      const t = td.d;
      out.targetRows += t.count;
      if (s.count !== t.count || s.hash !== t.hash) {
        out.mismatches.push({
          chunk: chunk.id,
          lo: showBound(srcKey, chunk.range?.lo ?? null),
          hi: showBound(srcKey, chunk.range?.hi ?? null),
          sourceRows: s.count,
          targetRows: t.count,
          sourceHash: s.hash,
          targetHash: t.hash,
        });
      }
    }
  });
  try {
    await Promise.all(workers);
    if (whole) {
      const t = (await whole).d;
      out.targetRows = t.count;
      if (t.count !== srcTotal.count || t.hash !== srcTotal.hash) {
        out.mismatches.push({
          chunk: '(whole stream)',
          lo: null,
          hi: null,
          sourceRows: srcTotal.count,
          targetRows: t.count,
          sourceHash: srcTotal.hash,
          targetHash: t.hash,
        });
      }
    }
    const problems = (await target.introspector.audit?.(sp.target)) ?? [];
    if (problems.length > 0) {
      out.problems = problems;
      out.status = 'mismatch';
    }
  } catch (err) {
    out.status = 'error';
    out.error = errorMessage(err);
  }
  out.mismatches.sort((a, b) => a.chunk.localeCompare(b.chunk));
  // Chunk ranges are read with each side's own comparison: a text key ordered differently by the two
  // sides (a case-insensitive MySQL collation, an ICU collation) can put a row in one chunk here and
  // another (or two, or none) there. The source's chunk digests add up to the stream's; the target
  // is then read whole, once, and equal totals prove the same rows.
  const textKey = srcKey.some((c) => c.logical.kind === 'text');
  if (out.status === 'equal' && out.mismatches.length > 0 && textKey) {
    try {
      const whole = await digest(target, { table: sp.target, columns: tgtCols, key: [], range: null }, tgtTypes);
      if (whole.d.count === srcTotal.count && whole.d.hash === srcTotal.hash) {
        out.note = `${out.mismatches.length} chunk(s) differ only because the two sides order the text key differently (collation); the whole stream is equal`;
        out.mismatches = [];
        out.targetRows = whole.d.count;
      }
    } catch (err) {
      out.status = 'error';
      out.error = errorMessage(err);
    }
  }
  if (out.status === 'equal' && out.mismatches.length > 0) out.status = 'mismatch';
  out.seconds = (Date.now() - t0) / 1000;
  return out;
}

export async function verifyPlan(
  plan: Plan,
  source: Connector,
  target: Connector,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const t0 = Date.now();
  const streams: StreamVerify[] = [];
  // Reading both sides at once: each chunk holds a source and a target connection.
  const parallel = Math.max(1, Math.min(plan.parallel, source.capabilities.maxReaders, target.capabilities.maxReaders));
  for (const sp of plan.streams) {
    const s = await verifyStream(sp, source, target, parallel);
    streams.push(s);
    options.onStream?.(s);
  }
  return {
    status: streams.every((s) => s.status === 'equal') ? 'equal' : 'mismatch',
    streams,
    seconds: (Date.now() - t0) / 1000,
  };
}
