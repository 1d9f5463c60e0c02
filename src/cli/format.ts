/** Text rendering of plans, ledgers, verify reports and status for people (the --json forms are raw). */
import type { StatusReport } from '../api/operations.js';
import { displayTable } from '../core/identifiers.js';
import { formatLogical } from '../core/logical-types.js';
import type { Ledger } from '../engine/executor.js';
import type { Plan } from '../engine/plan-types.js';
import type { VerifyReport } from '../engine/verifier.js';

export const n = (x: number | null | undefined): string =>
  x === null || x === undefined ? '-' : x.toLocaleString('en-US');

/** Left-aligned columns; numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_h, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_h, i) => rows.length > 0 && rows.every((r) => /^[\d,.\-s]*$/.test(r[i] ?? '')));
  return all
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatPlan(plan: Plan): string {
  const out: string[] = [];
  out.push(`source    ${plan.source}  (${plan.sourceDialect})`);
  out.push(`target    ${plan.target}  (${plan.targetDialect})`);
  out.push(`parallel  ${plan.parallel} chunk${plan.parallel > 1 ? 's' : ''} in flight`);
  if (plan.castRules?.length) {
    out.push('cast rules in effect (first match wins; yours first):');
    for (const r of plan.castRules) out.push(`  ${r}`);
  }
  for (const sp of plan.streams) {
    const files = sp.chunks.filter((c) => c.part).length;
    const key = files
      ? `(a file each${sp.parent ? `, child rows of ${sp.parent}` : ''})`
      : sp.chunks.some((c) => c.pages)
        ? 'by page ranges'
        : sp.chunkKey.length
          ? `by (${sp.chunkKey.join(', ')})`
          : 'whole table';
    const est = sp.estimatedRows >= 0 ? `~${n(sp.estimatedRows)} rows` : 'rows unknown';
    const path = sp.passThrough ? `, bytes passed through (${sp.passThrough})` : '';
    out.push('');
    out.push(
      `stream ${sp.name} -> ${displayTable(sp.target)}  [${sp.mode}, ${sp.chunks.length} chunk${sp.chunks.length === 1 ? '' : 's'} ${key}, ${est}${path}]`,
    );
    out.push(
      table(
        ['  column', 'source type', 'logical', 'target type', 'null', 'found', 'note'],
        sp.columns.map((c) => {
          const logical =
            formatLogical(c.source.logical) === formatLogical(c.target.logical)
              ? formatLogical(c.source.logical)
              : `${formatLogical(c.source.logical)} -> ${formatLogical(c.target.logical)}`;
          const found = Object.entries(c.found ?? {})
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}: ${n(v)}`)
            .join(', ');
          const note = [c.transform ? `transform ${c.transform}` : '', c.renamed ?? '', c.lossy ?? '']
            .filter(Boolean)
            .join('; ');
          return [
            `  ${c.target.name}${sp.primaryKey.includes(c.target.name) ? ' (pk)' : ''}`,
            c.source.nativeType || '(none)',
            logical,
            c.target.nativeType,
            c.target.nullable ? 'yes' : 'no',
            found,
            note,
          ];
        }),
      ),
    );
    if (sp.sourceNote) out.push(`  source: ${sp.sourceNote}`);
    if (sp.chunkNote) out.push(`  chunks: ${sp.chunkNote}`);
    if (files) {
      const shown = sp.chunks.slice(0, 3).map((c) => c.part!.path);
      out.push(`  files: ${shown.join(', ')}${files > 3 ? `, ... (${n(files)} files)` : ''}`);
    }
    const rules = sp.columns.filter((c) => c.rule);
    if (rules.length) {
      out.push('  cast rules applied:');
      for (const c of rules) out.push(`    ${c.source.name}: ${c.rule}`);
    }
    if (sp.policies) {
      out.push(
        `  policies: ${Object.entries(sp.policies)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}; max_rejects ${sp.maxRejects}`,
      );
    }
    if (sp.indexes.length) out.push(`  indexes built after the load: ${sp.indexes.map((i) => i.name).join(', ')}`);
    if (sp.layout) {
      const l = sp.layout;
      const parts = l.partitionBy.map((p) =>
        p.granularity ? `${p.key} (${p.column} by ${p.granularity}, UTC)` : p.key,
      );
      out.push(
        `  files: ${l.format}${l.format === 'csv' ? ` (delimiter ${JSON.stringify(l.csv.delimiter)}, null ${JSON.stringify(l.csv.null)}${l.csv.header ? ', header' : ''})` : ''}, ${l.compression}, at most ${n(l.fileMaxRows)} rows / ${(l.fileMaxBytes / 1048576).toFixed(0)} MiB a file${l.format === 'parquet' ? `, row groups of ${n(l.rowGroupRows)} rows` : ''}`,
      );
      if (parts.length) out.push(`  partitioned by ${parts.join(' / ')}`);
      out.push(
        sp.mode === 'full-refresh'
          ? '  each chunk writes its own files; the manifest, written last, replaces the previous run (whose files are then removed)'
          : "  each chunk writes its own files; the manifest, written last, adds them to the earlier runs' files",
      );
    } else if (sp.mode === 'full-refresh') out.push('  loads into a staging table, swapped in atomically at the end');
    for (const w of sp.warnings) out.push(`  warning: ${w}`);
    const lossy = sp.columns.filter((c) => c.lossy);
    if (lossy.length) out.push(`  lossy casts: ${lossy.map((c) => `${c.source.name} (${c.lossy})`).join('; ')}`);
  }
  return out.join('\n');
}

export function formatLedger(ledger: Ledger): string {
  const rows = ledger.streams.map((s) => [
    s.stream,
    s.target,
    s.mode,
    s.status,
    n(s.sourceRows),
    n(s.targetRows),
    n(s.rowsWritten),
    n(s.rejects),
    `${s.chunks}`,
    `${s.chunksResumed}`,
    `${s.retries}`,
    `${s.seconds.toFixed(1)}s`,
  ]);
  const out = [
    table(
      [
        'stream',
        'target',
        'mode',
        'status',
        'source rows',
        'target rows',
        'written',
        'rejected',
        'chunks',
        'resumed',
        'retries',
        'time',
      ],
      rows,
    ),
  ];
  for (const s of ledger.streams) {
    if (s.error) out.push(`${s.stream}: ${s.error}`);
    const changed = Object.entries(s.policyCounts ?? {}).filter(([, v]) => v > 0);
    if (changed.length) {
      out.push(`${s.stream}: values changed by policy: ${changed.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
    }
    if (s.rejectsFile) out.push(`${s.stream}: ${n(s.rejects)} rejected rows with their reasons in ${s.rejectsFile}`);
  }
  const failed = ledger.streams.filter((s) => s.status !== 'ok').length;
  out.push(
    `run ${ledger.runId}${ledger.resumed ? ' (resumed)' : ''}: ${ledger.status === 'ok' ? 'ok' : `FAILED (${failed} of ${ledger.streams.length} streams)`} in ${ledger.seconds.toFixed(1)}s`,
  );
  out.push(`state ${ledger.stateFile}${ledger.logFile ? `  log ${ledger.logFile}` : ''}`);
  return out.join('\n');
}

export function formatVerify(report: VerifyReport): string {
  const out = [
    table(
      ['stream', 'target', 'result', 'source rows', 'rejected', 'target rows', 'chunks', 'mismatching', 'time'],
      report.streams.map((s) => [
        s.stream,
        s.target,
        s.status,
        n(s.sourceRows),
        n(s.rejected),
        n(s.targetRows),
        `${s.chunks}`,
        `${s.mismatches.length}`,
        `${s.seconds.toFixed(1)}s`,
      ]),
    ),
  ];
  for (const s of report.streams) {
    if (s.error) out.push(`${s.stream}: ${s.error}`);
    if (s.note) out.push(`${s.stream}: ${s.note}`);
    for (const p of s.problems ?? []) out.push(`${s.stream}: ${p}`);
    for (const m of s.mismatches) {
      if (!m.lo && !m.hi && m.chunk.startsWith('(')) {
        out.push(
          `${s.stream}: ${m.chunk}: source ${n(m.sourceRows)} rows, target ${n(m.targetRows)} rows${m.sourceRows === m.targetRows ? ', contents differ' : ''}`,
        );
        continue;
      }
      const lo = m.lo ? `(${m.lo.join(', ')})` : '-inf';
      const hi = m.hi ? `(${m.hi.join(', ')})` : '+inf';
      out.push(
        `${s.stream}: chunk ${m.chunk} key range (${lo}, ${hi}]: source ${n(m.sourceRows)} rows, target ${n(m.targetRows)} rows${m.sourceRows === m.targetRows ? ', contents differ' : ''}`,
      );
    }
  }
  out.push(
    `verify: ${report.status === 'equal' ? 'source and target are equal' : 'MISMATCH'} (${report.seconds.toFixed(1)}s)`,
  );
  return out.join('\n');
}

export function formatStatus(s: StatusReport): string {
  if (!s.run) return `no run recorded yet (state ${s.stateFile})`;
  const out = [
    `run ${s.run.runId}: ${s.run.status}, started ${s.run.startedAt}${s.run.finishedAt ? `, finished ${s.run.finishedAt}` : ''}`,
    table(
      ['stream', 'status', 'chunks done', 'pending', 'running', 'failed', 'source rows', 'target rows', 'last error'],
      s.streams.map((x) => [
        x.stream,
        x.status,
        `${x.chunks.done}`,
        `${x.chunks.pending}`,
        `${x.chunks.running}`,
        `${x.chunks.failed}`,
        n(x.sourceRows),
        n(x.targetRows),
        (x.lastError ?? '').split('\n')[0].slice(0, 100),
      ]),
    ),
    `state ${s.stateFile}`,
  ];
  return out.join('\n');
}
