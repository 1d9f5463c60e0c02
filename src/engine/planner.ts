/**
 * Turns a job into a plan before anything is written: resolves stream selectors against the
 * source, maps every column's type into the target dialect, picks the chunk key and cuts chunks,
 * decides whether bytes can pass straight through. Dialect-free: it only asks the connectors.
 */

import { createHash } from 'node:crypto';
import type { Job, StreamSpec } from '../config/load-job.js';
import { type CastRule, castMatches, formatRule, parseLogical } from '../core/cast-rules.js';
import type {
  ColumnInfo,
  Connector,
  PageRange,
  Probe,
  ProbeCheck,
  SourceStreamSpec,
  TableInfo,
  TargetColumn,
} from '../core/connector.js';
import { ConfigError, FerryError, TerminalError } from '../core/errors.js';
import type { FileLayout } from '../core/file-layout.js';
import {
  displayTable,
  type NamePart,
  parseQualifiedName,
  partMatches,
  type QualifiedName,
  type TableRef,
} from '../core/identifiers.js';
import { redactUrl } from '../core/redact.js';
import type { ChunkPlan, ColumnPlan, Plan, StreamPlan } from './plan-types.js';
import { streamStages } from './transforms.js';

export function chunkId(i: number): string {
  return `c${String(i).padStart(5, '0')}`;
}

interface Selected {
  spec: StreamSpec;
  ref: TableRef;
  /** The parent stream of a child table. */
  parent?: StreamPlan;
}

/** The tables the job's streams select: by name and wildcard in a database, declared in a files source. */
async function selectTables(job: Job, source: Connector): Promise<Selected[]> {
  if (source.declareStreams) {
    const selected = job.streams.map((spec) => ({ spec, ref: declaredRef(spec) }));
    source.declareStreams(selected.map(({ spec, ref }) => sourceStreamSpec(spec, ref)));
    return selected;
  }
  const onlyFiles = job.streams.find((s) => s.sourceKeys.length > 0);
  if (onlyFiles) {
    throw new ConfigError(
      `stream ${JSON.stringify(onlyFiles.selector)}: ${onlyFiles.sourceKeys.join(', ')}: only for a files source (file: or s3:)`,
      {
        hint: `the ${source.dialect} source is a database: select columns with columns: [a, b], change types with casts`,
      },
    );
  }
  const tables = await source.introspector.listTables();
  const explicit: Selected[] = [];
  const wild: Selected[] = [];
  for (const spec of job.streams) {
    const q = parseQualifiedName(spec.selector, 'stream');
    for (const ref of resolveSelector(q, spec, tables, source)) (q.wildcard ? wild : explicit).push({ spec, ref });
  }
  // A table named explicitly keeps its own settings; a wildcard adds only the tables not named.
  const selected = [...explicit];
  for (const w of wild) if (!selected.some((s) => sameRef(s.ref, w.ref))) selected.push(w);
  return selected;
}

/**
 * Tells a source that takes its tables from the job (a files source) what they are. `buildPlan`
 * does it; a resumed run, which reuses its stored plan, calls it alone.
 */
export function declareStreams(job: Job, source: Connector): void {
  source.declareStreams?.(job.streams.map((spec) => sourceStreamSpec(spec, declaredRef(spec))));
}

/** A files source stream's name: `orders`, or `public.orders` (a lake folder written by ferry). */
function declaredRef(spec: StreamSpec): TableRef {
  const q = parseQualifiedName(spec.selector, 'stream');
  if (q.wildcard) {
    throw new ConfigError(`stream ${JSON.stringify(spec.selector)}: a files source names each stream`, {
      hint: 'give the stream a name and select its files with files: "folder/**/*.csv"',
    });
  }
  return { schema: q.schema?.value ?? null, name: (q.table as NamePart).value };
}

function sourceStreamSpec(spec: StreamSpec, ref: TableRef): SourceStreamSpec {
  const f = spec.files;
  return {
    ref,
    files: f.glob,
    format: f.format,
    compression: f.compression,
    csv: f.csv,
    encoding: f.encoding,
    flatten: f.flatten,
    columnTypes: f.columnTypes,
    primaryKey: spec.primaryKey ?? null,
    sampleRows: f.sampleRows,
  };
}

function sameRef(a: TableRef, b: TableRef): boolean {
  return a.schema === b.schema && a.name === b.name;
}

function pick(candidates: TableRef[], part: NamePart): TableRef[] {
  const matches = candidates.filter((t) => partMatches(part, t.name));
  // Unquoted names match case-insensitively, but an exact spelling wins over a case-folded one.
  const exact = matches.filter((t) => t.name === part.value || t.name === part.value.toLowerCase());
  return exact.length > 0 ? exact : matches;
}

function resolveSelector(q: QualifiedName, spec: StreamSpec, tables: TableRef[], source: Connector): TableRef[] {
  const where = `stream ${JSON.stringify(spec.selector)}`;
  const inSchema = (schema: NamePart | undefined): TableRef[] => {
    if (!schema) {
      const def = source.capabilities.defaultSchema;
      return tables.filter((t) => t.schema === def);
    }
    if (source.capabilities.defaultSchema === null) {
      if (!partMatches(schema, 'main')) {
        throw new ConfigError(`${where}: the ${source.dialect} source has no schema ${schema.value}`, {
          hint: 'write the table name alone',
        });
      }
      return tables;
    }
    return tables.filter((t) => t.schema !== null && partMatches(schema, t.schema));
  };
  const candidates = inSchema(q.schema);
  if (q.wildcard) {
    if (candidates.length === 0) {
      throw new ConfigError(`${where}: no tables in schema ${q.schema?.value} of the source`);
    }
    return candidates;
  }
  const found = pick(candidates, q.table as NamePart);
  if (found.length === 0) {
    const near = tables
      .filter((t) => t.name.toLowerCase().includes((q.table as NamePart).value.toLowerCase().slice(0, 4)))
      .slice(0, 5)
      .map(displayTable);
    throw new ConfigError(`${where}: table does not exist in the source`, {
      hint: near.length
        ? `did you mean ${near.join(', ')}?`
        : 'check the name (quote parts that have capitals: "Name")',
    });
  }
  if (found.length > 1) {
    throw new ConfigError(`${where}: matches ${found.map(displayTable).join(' and ')}`, {
      hint: 'quote the name to pick one exactly, e.g. "Orders"',
    });
  }
  return found;
}

function targetRef(spec: StreamSpec, src: TableRef, source: Connector, target: Connector): TableRef {
  const where = `stream ${JSON.stringify(spec.selector)}`;
  const def = target.capabilities.defaultSchema;
  // A lake folder: `target:` is a path under the target URL; by default the source's own name.
  if (target.capabilities.namesFollowSource) return spec.target ? { schema: null, name: spec.target } : src;
  if (spec.target) {
    const q = parseQualifiedName(spec.target, `${where}: target`);
    if (q.wildcard) throw new ConfigError(`${where}: target cannot be a wildcard`);
    // Unquoted parts follow the target's folding rule (PostgreSQL: lower case), as in its own SQL.
    const fold = (part: NamePart) =>
      !part.quoted && target.capabilities.unquotedCase === 'lower' ? part.value.toLowerCase() : part.value;
    const name = fold(q.table as NamePart);
    if (def === null) {
      if (q.schema && !partMatches(q.schema, 'main')) {
        throw new ConfigError(`${where}: target ${spec.target}: the ${target.dialect} target has no schemas`, {
          hint: `write target: ${name}`,
        });
      }
      return { schema: null, name };
    }
    return { schema: q.schema ? fold(q.schema) : def, name };
  }
  if (def === null) return { schema: null, name: src.name };
  // The source's default schema (PostgreSQL `public`, the MySQL URL's database) maps to the
  // target's default; other schemas keep their name.
  const srcDefault = source.capabilities.defaultSchema;
  const keep = src.schema !== null && srcDefault !== null && src.schema !== srcDefault;
  return { schema: keep ? src.schema : def, name: src.name };
}

/** Above this locality (see Introspector.keyLocality) a key range reads mostly its own pages. */
const LOCAL_KEY = 0.5;

/**
 * The default chunk size, evened out: as many chunks as chunk_rows gives, rounded up to a multiple of
 * the parallel slots, all of one size. 5.18M rows at 500,000 with 2 slots were 10 chunks and one of
 * 183,000 that ran alone at the end, one slot idle; now they are 12 of 432,000, which end together.
 * From the row estimate, so the sizes are as good as the estimate.
 */
function evenChunkRows(estimatedRows: number, chunkRows: number, parallel: number): number {
  if (estimatedRows <= chunkRows) return chunkRows;
  const chunks = Math.ceil(Math.ceil(estimatedRows / chunkRows) / parallel) * parallel;
  return Math.ceil(estimatedRows / chunks);
}

/**
 * Rows per chunk: chunk_rows, unless the job leaves it at its default and the table is not stored
 * in key order. Then every key range visits most of the table's pages, and each chunk costs a pass
 * over the whole table: on the 5.18M-row benchmark table (random uuid key), 11 chunks of 500,000
 * rows took 5.5 s where 2 chunks took 4.7 s, as fast as one raw COPY pipe. Such a table is cut in
 * one chunk per parallel slot instead (resume then redoes up to a slot's share of the table).
 *
 * Better, where the source can (PostgreSQL 14+) and the stream is a full refresh into a staging
 * table: chunks of chunk_rows (set or not) by page ranges, which read each page once whatever their
 * number. Resume keeps its fine grain; a source changed before a resume starts the stream over.
 * Measured on that table, 2 cores: 11 page chunks 5.0 s at parallel 2, the raw pipe + key 4.3 s.
 */
async function chunkSizing(
  spec: StreamSpec,
  info: TableInfo,
  key: readonly ColumnInfo[],
  source: Connector,
  target: Connector,
  parallel: number,
): Promise<{ rows: number; note?: string; pages?: PageRange[]; pageVersion?: string }> {
  const fixed = {
    rows: spec.chunkRowsSet ? spec.chunkRows : evenChunkRows(info.estimatedRows, spec.chunkRows, parallel),
  };
  if (!source.introspector.keyLocality || info.estimatedRows <= spec.chunkRows) return fixed;
  const locality = await source.introspector.keyLocality(info.ref, key);
  if (locality === null || Math.abs(locality) >= LOCAL_KEY) return fixed;
  const scattered = `the table is not stored in key order (correlation ${locality.toFixed(2)}), so every key range would read most of its pages`;
  const byPages =
    spec.mode === 'full-refresh' && target.capabilities.stagingTable && source.introspector.pageChunks
      ? await source.introspector.pageChunks(info.ref, fixed.rows)
      : null;
  if (byPages && byPages.pages.length > 1) {
    return {
      rows: fixed.rows,
      pages: byPages.pages,
      pageVersion: byPages.version,
      note: `${byPages.pages.length} chunks by page ranges (ctid), read on one snapshot: ${scattered}`,
    };
  }
  if (spec.chunkRowsSet || info.estimatedRows <= spec.chunkRows * parallel) return fixed;
  // A little over an even share, so that an estimate a little off does not add a small last chunk.
  const rows = Math.ceil((info.estimatedRows / parallel) * 1.02);
  return {
    rows,
    note: `chunks of ~${rows.toLocaleString('en-US')} rows, one per parallel slot: ${scattered}; chunk_rows sets the size`,
  };
}

async function planStream(
  spec: StreamSpec,
  info: TableInfo,
  tref: TableRef,
  source: Connector,
  target: Connector,
  { computeChunks, parallel, profile }: Required<PlanOptions> & { parallel: number },
): Promise<StreamPlan> {
  const name = displayTable(info.ref);
  const where = `stream ${name}`;
  const warnings: string[] = [];
  let cols = info.columns;
  if (spec.columns) {
    cols = spec.columns.map((c) => {
      const col =
        info.columns.find((x) => x.name === c) ?? info.columns.find((x) => x.name.toLowerCase() === c.toLowerCase());
      if (!col) throw new ConfigError(`${where}: columns: no column ${JSON.stringify(c)} in the source table`);
      return col;
    });
  }
  const has = (n: string) => cols.some((c) => c.name === n);
  const keyed = new Set([
    ...info.primaryKey,
    ...(spec.primaryKey ?? []),
    ...info.indexes.flatMap((ix) => ix.columns ?? []),
  ]);
  // Columns of the widest key or index each column is in (a composite key shares MySQL's key limit).
  const keyParts = new Map<string, number>();
  // Bytes the other parts take, for a text column that is a key's only variable-width part (a child
  // table's parent key beside `_index`): it gets the rest of the key, nearly as wide as its parent's.
  const keyReserve = new Map<string, number>();
  const variable = (n: string) =>
    ['text', 'json', 'bytes', 'array'].includes(info.columns.find((c) => c.name === n)?.logical.kind ?? 'text');
  for (const k of [info.primaryKey, spec.primaryKey ?? [], ...info.indexes.map((ix) => ix.columns ?? [])]) {
    for (const n of k) keyParts.set(n, Math.max(keyParts.get(n) ?? 1, k.length));
    const wide = k.filter(variable);
    if (k.length > 1 && wide.length === 1) {
      keyReserve.set(wide[0], Math.max(keyReserve.get(wide[0]) ?? 0, 8 * (k.length - 1)));
    }
  }
  // Chunk boundaries and the profile are each a pass over the table on the source server: run them
  // at once (a 5M-row MySQL table: about 5 s each, on two cores).
  const earlyKey = spec.primaryKey ?? info.primaryKey;
  const keyInfo = earlyKey.map((k) => info.columns.find((c) => c.name === k));
  // A files source is read a file a chunk, not by key ranges.
  const byParts = source.introspector.parts !== undefined;
  const byKey = computeChunks && !byParts && earlyKey.length > 0 && keyInfo.every((c) => c !== undefined);
  const sizing = byKey
    ? await chunkSizing(spec, info, keyInfo as ColumnInfo[], source, target, parallel)
    : { rows: spec.chunkRows };
  const boundsPromise =
    byKey && !sizing.pages
      ? source.introspector.chunkBoundaries(info.ref, keyInfo as ColumnInfo[], sizing.rows)
      : Promise.resolve(undefined);
  boundsPromise.catch(() => {});
  const found = await profileColumns(spec, info, cols, source, target, profile);
  const rules = castRulesFor(spec, source, target);
  const columns: ColumnPlan[] = cols.map((c, i) => {
    const rule = pickRule(rules, info.ref.name, c, found[i]);
    let col = c;
    if (rule?.to) {
      const logical = parseLogical(rule.to, `cast rule ${formatRule(rule)}`);
      col = { ...c, logical, note: undefined };
    }
    // A rule that changed the type makes the column no longer "same dialect, same native type".
    const m = target.writer.mapType(col, rule?.to ? 'cast' : source.dialect, {
      key: keyed.has(c.name),
      keyParts: keyParts.get(c.name),
      keyReserve: keyReserve.get(c.name),
    });
    // invalid_dates: null writes NULL for the zero dates profiling found: a NOT NULL column (outside
    // the primary key) must then allow NULL on the target, or every such row fails the load.
    const invalid = found[i]['invalid-dates'] ?? 0;
    const nulled =
      !c.nullable && invalid > 0 && spec.policies.invalid_dates === 'null' && !info.primaryKey.includes(c.name);
    if (nulled) {
      warnings.push(
        `column ${c.name}: ${invalid} invalid date(s) become NULL (invalid_dates: null), so the target column allows NULL (invalid_dates: reject keeps NOT NULL)`,
      );
    }
    const t: TargetColumn = {
      name: c.name,
      nativeType: m.nativeType,
      logical: m.logical ?? col.logical,
      nullable: c.nullable || nulled,
    };
    if (c.text && target.capabilities.castsText) t.fromText = true;
    const plan: ColumnPlan = { source: c, target: t, lossy: m.lossy };
    if (rule) plan.rule = formatRule(rule);
    if (rule?.transform) plan.transform = rule.transform;
    if (Object.keys(found[i]).length > 0) plan.found = found[i];
    return plan;
  });
  renameForTarget(columns, target, warnings);
  const targetName = (n: string) => columns.find((c) => c.source.name === n)?.target.name ?? n;
  let chunkKey: string[] = [];
  let chunkKeySource: StreamPlan['chunkKeySource'] = 'none';
  if (spec.primaryKey) {
    for (const k of spec.primaryKey) {
      if (!info.columns.some((c) => c.name === k))
        throw new ConfigError(`${where}: primary_key: no column ${JSON.stringify(k)}`);
    }
    chunkKey = spec.primaryKey;
    chunkKeySource = 'configured';
  } else if (info.primaryKey.length > 0) {
    chunkKey = info.primaryKey;
    chunkKeySource = 'primary-key';
  }
  for (const k of chunkKey) {
    if (!has(k)) throw new ConfigError(`${where}: columns must include the key column ${JSON.stringify(k)}`);
  }
  if (chunkKey.length === 0 && !byParts) {
    warnings.push(
      'no primary key: copied as one whole-table chunk, replaced atomically (set primary_key: [unique, not-null columns] to cut it in chunks)',
    );
  }
  const primaryKey = info.primaryKey.filter(has).map(targetName);
  const indexes = info.indexes
    .filter((ix) => {
      if (ix.columns && !ix.columns.every(has)) {
        warnings.push(`index ${ix.name} skipped: it uses columns not selected`);
        return false;
      }
      if (!ix.columns && ix.dialect !== target.dialect) {
        warnings.push(
          `index ${ix.name} skipped: expression, partial, full-text or spatial index cannot be carried to ${target.dialect}`,
        );
        return false;
      }
      return true;
    })
    .map((ix) => (ix.columns ? { ...ix, columns: ix.columns.map(targetName) } : ix));
  let chunks: ChunkPlan[] = [{ id: chunkId(1), range: null }];
  if (computeChunks && byParts) {
    const parts = await source.introspector.parts!(info.ref);
    chunks = parts.map((part, i) => ({ id: chunkId(i + 1), range: null, part }));
  } else if (computeChunks && sizing.pages) {
    chunks = sizing.pages.map((pages, i) => ({ id: chunkId(i + 1), range: null, pages }));
  } else if (computeChunks && chunkKey.length > 0) {
    const keyCols = chunkKey.map((k) => info.columns.find((c) => c.name === k)!);
    const bounds = (await boundsPromise) ?? (await source.introspector.chunkBoundaries(info.ref, keyCols, sizing.rows));
    chunks = [];
    let lo: unknown[] | null = null;
    for (const b of [...bounds, null]) {
      chunks.push({ id: chunkId(chunks.length + 1), range: { lo, hi: b } });
      lo = b;
    }
  }
  const layout = fileLayoutFor(spec, columns, source, target, where);
  // A lake has no indexes: the key is recorded in the manifest, nothing is built.
  if (layout) indexes.length = 0;
  const shared = source.capabilities.passThrough.filter((f) => target.capabilities.passThrough.includes(f));
  const sameTypes = columns.every((c) => c.source.nativeType === c.target.nativeType && !c.transform);
  const staged = streamStages(columns, spec.policies, source, target).some((s) => s !== null);
  // Same dialect, same types, no policy: the source's own bytes. Across dialects (MySQL ->
  // PostgreSQL binary COPY) when the reader can make the target's format for every column, into the
  // staging table this run creates with exactly the planned types; policies still hold, because such
  // a reader hands a chunk back to the row path at the first value a guard would look at.
  const passThrough =
    source.dialect === target.dialect
      ? shared.length > 0 && sameTypes && !staged
        ? shared[0]
        : null
      : spec.mode === 'full-refresh' && target.capabilities.stagingTable && columns.every((c) => !c.transform)
        ? (target.capabilities.passThrough.find((f) =>
            source.reader.rawFor?.(
              f,
              columns.map((c) => c.source),
              columns.map((c) => c.target.nativeType),
            ),
          ) ?? null)
        : null;
  return {
    name,
    source: info.ref,
    target: tref,
    mode: spec.mode,
    columns,
    chunkKey,
    chunkKeySource,
    primaryKey,
    indexes,
    estimatedRows: info.estimatedRows,
    chunks,
    passThrough,
    chunkRows: sizing.rows,
    ...(sizing.note ? { chunkNote: sizing.note } : {}),
    ...(sizing.pageVersion ? { pageVersion: sizing.pageVersion } : {}),
    batchRows: spec.batchRows,
    maxAttempts: spec.maxAttempts,
    maxRejects: spec.maxRejects,
    policies: spec.policies,
    warnings,
    layout,
    ...(info.note ? { sourceNote: info.note } : {}),
  };
}

/** The stream's file layout for a files target, checked against its columns; null for a database. */
function fileLayoutFor(
  spec: StreamSpec,
  columns: ColumnPlan[],
  source: Connector,
  target: Connector,
  where: string,
): FileLayout | null {
  if (target.capabilities.bulkLoad !== 'files') {
    // A files source reads format, compression and csv itself.
    if (spec.fileKeys.length > 0 && !source.declareStreams) {
      throw new ConfigError(`${where}: ${spec.fileKeys.join(', ')}: only for a files target (file: or s3:)`, {
        hint: `remove ${spec.fileKeys.length > 1 ? 'them' : 'it'}; the ${target.dialect} target is a database`,
      });
    }
    return null;
  }
  const layout = spec.layout;
  const csv = layout.csv;
  if (layout.format === 'csv' && (csv.delimiter === csv.quote || csv.null.includes(csv.delimiter))) {
    throw new ConfigError(`${where}: csv: the delimiter must differ from the quote and not appear in the null marker`);
  }
  if (
    layout.format === 'csv' &&
    (csv.null.includes(csv.quote) || /[\r\n]/.test(csv.null) || /[\r\n]/.test(csv.quote + csv.delimiter))
  ) {
    throw new ConfigError(
      `${where}: csv: the null marker cannot hold the quote or a line break (nor can the delimiter or quote be one)`,
    );
  }
  const keys = new Set<string>();
  for (const p of layout.partitionBy) {
    const c = columns.find((x) => x.source.name === p.column);
    if (!c)
      throw new ConfigError(`${where}: partition_by: no column ${JSON.stringify(p.column)} among the columns copied`);
    const kind = c.target.logical.kind;
    if (p.granularity && kind !== 'date' && kind !== 'timestamp' && kind !== 'timestamptz') {
      throw new ConfigError(
        `${where}: partition_by: ${p.column}:${p.granularity} needs a date or timestamp column (${p.column} is ${kind})`,
      );
    }
    if (!p.granularity && ['bytes', 'json', 'array', 'float32', 'float64'].includes(kind)) {
      throw new ConfigError(
        `${where}: partition_by: ${p.column} is ${kind}; a folder per value needs a text, number, boolean, date or uuid column`,
      );
    }
    if (keys.has(p.key)) throw new ConfigError(`${where}: partition_by: ${p.key} appears twice`);
    keys.add(p.key);
  }
  if (
    layout.partitionBy.length > 0 &&
    layout.partitionBy.every((p) => !p.granularity) &&
    layout.partitionBy.length === columns.length
  ) {
    throw new ConfigError(`${where}: partition_by takes every column; the files would hold none`);
  }
  return {
    ...layout,
    partitionBy: layout.partitionBy.map((p) => ({
      ...p,
      column: columns.find((c) => c.source.name === p.column)!.target.name,
    })),
  };
}

/**
 * The user's rules, then the source connector's defaults. A same-dialect copy keeps native types,
 * so the defaults (written for crossing dialects) do not apply to it.
 */
function castRulesFor(spec: StreamSpec, source: Connector, target: Connector): CastRule[] {
  return [...spec.casts, ...(source.dialect === target.dialect ? [] : source.castRules)];
}

/** Profiling probes a column needs: data-dependent cast rules and the policies that may apply. */
function probesFor(
  c: ColumnInfo,
  rules: CastRule[],
  spec: StreamSpec,
  info: TableInfo,
  source: Connector,
  target: Connector,
  profile: 'all' | 'decisive',
): ProbeCheck[] {
  const checks = new Set<ProbeCheck>();
  for (const r of rules) if (r.when && castMatches(r.match, info.ref.name, c.name, c.nativeType)) checks.add(r.when);
  const k = c.logical.kind;
  if (profile === 'decisive') {
    // Only what changes the plan: the rules' conditions, and zero dates in a NOT NULL column that
    // invalid_dates: null would make nullable. The other counts are for `ferry plan` to show; a
    // run counts what each policy changed as it goes.
    const nulled = !c.nullable && spec.policies.invalid_dates === 'null' && !info.primaryKey.includes(c.name);
    if ((k === 'date' || k === 'timestamp' || k === 'timestamptz') && source.capabilities.values.invalidDates && nulled)
      checks.add('invalid-dates');
    return [...checks];
  }
  const sv = source.capabilities.values;
  const tv = target.capabilities.values;
  if ((k === 'date' || k === 'timestamp' || k === 'timestamptz') && sv.invalidDates) checks.add('invalid-dates');
  if ((k === 'text' || k === 'json') && sv.nulInText && !tv.nulInText) checks.add('nul-bytes');
  if ((k === 'text' || k === 'json') && sv.invalidUtf8) checks.add('invalid-utf8');
  if ((k === 'float32' || k === 'float64') && sv.nonFiniteFloats && !tv.nonFiniteFloats) checks.add('non-finite');
  return [...checks];
}

async function profileColumns(
  spec: StreamSpec,
  info: TableInfo,
  cols: ColumnInfo[],
  source: Connector,
  target: Connector,
  profile: 'all' | 'decisive',
): Promise<Partial<Record<ProbeCheck, number>>[]> {
  const rules = castRulesFor(spec, source, target);
  const probes: Probe[] = [];
  const owner: number[] = [];
  cols.forEach((c, i) => {
    for (const check of probesFor(c, rules, spec, info, source, target, profile)) {
      probes.push({ column: c, check });
      owner.push(i);
    }
  });
  const out: Partial<Record<ProbeCheck, number>>[] = cols.map(() => ({}));
  if (!spec.profile || probes.length === 0 || !source.introspector.profile) return out;
  const counts = await source.introspector.profile(info.ref, probes);
  counts.forEach((n, j) => {
    if (n !== null) out[owner[j]][probes[j].check] = n;
  });
  return out;
}

/** First rule (user's first) whose match fits and whose profiled condition holds. */
function pickRule(
  rules: CastRule[],
  table: string,
  c: ColumnInfo,
  found: Partial<Record<ProbeCheck, number>>,
): CastRule | undefined {
  return rules.find((r) => {
    if (!castMatches(r.match, table, c.name, c.nativeType)) return false;
    // An unprofiled condition does not hold: the rule after it is the safe choice.
    if (r.when) return found[r.when] === 0;
    return true;
  });
}

/**
 * Target names that are too long for the target, or that collide there (MySQL column names are
 * case-insensitive), are renamed deterministically: cut to fit, plus `_` and 8 hex digits of a
 * hash of the original. Never a silent merge or truncation; `ferry plan` shows each rename.
 */
function renameForTarget(columns: ColumnPlan[], target: Connector, warnings: string[]): void {
  const max = target.capabilities.maxIdentifierBytes;
  const chars = target.capabilities.identifierLimitInCharacters === true;
  const length = (n: string) => (chars ? [...n].length : Buffer.byteLength(n));
  const fold = (n: string) => (target.capabilities.caseInsensitiveColumns ? n.toLowerCase() : n);
  const taken = new Set<string>();
  for (const c of columns) {
    let name = c.target.name;
    let why: string | undefined;
    if (length(name) > max) why = `longer than ${max} ${chars ? 'characters' : 'bytes'}`;
    else if (taken.has(fold(name))) why = `collides with another column on ${target.dialect}`;
    if (why) {
      const h = createHash('sha1').update(c.source.name).digest('hex').slice(0, 8);
      let base = name;
      while (length(base) > max - 9) base = base.slice(0, -1);
      name = `${base}_${h}`;
      c.renamed = `${JSON.stringify(c.source.name)} ${why}: renamed ${JSON.stringify(name)}`;
      warnings.push(`column ${c.renamed}`);
      c.target = { ...c.target, name };
    }
    taken.add(fold(name));
  }
}

/**
 * Index names are per table in MySQL (`dept_no` on both dept_emp and dept_manager) but share one
 * namespace with the tables of a schema in PostgreSQL and SQLite. Across dialects, an index whose
 * name is taken in its target schema (by a table or an earlier index of the plan), or too long
 * there, is renamed `<table>_<index>` (cut to fit, plus 8 hex digits of a hash when needed), and
 * `ferry plan` shows the rename. Names that are free are kept.
 */
function uniqueIndexNames(streams: StreamPlan[], target: Connector): void {
  const max = target.capabilities.maxIdentifierBytes;
  const key = (schema: string | null, name: string) =>
    JSON.stringify([schema?.toLowerCase() ?? null, name.toLowerCase()]);
  const taken = new Set(streams.map((s) => key(s.target.schema, s.target.name)));
  const free = (schema: string | null, name: string) => Buffer.byteLength(name) <= max && !taken.has(key(schema, name));
  for (const sp of streams) {
    const schema = sp.target.schema;
    sp.indexes = sp.indexes.map((ix) => {
      let name = ix.name;
      if (!free(schema, name)) {
        name = `${sp.target.name}_${ix.name}`;
        if (!free(schema, name)) {
          const h = createHash('sha1').update(`${sp.name}|${ix.name}`).digest('hex').slice(0, 8);
          let base = name;
          while (Buffer.byteLength(base) > max - 9) base = base.slice(0, -1);
          name = `${base}_${h}`;
        }
        sp.warnings.push(
          `index ${JSON.stringify(ix.name)} is taken or too long in the target schema: renamed ${JSON.stringify(name)}`,
        );
      }
      taken.add(key(schema, name));
      return name === ix.name ? ix : { ...ix, name };
    });
  }
}

export interface PlanOptions {
  /** Cut chunks (costs a sample or a key scan per table). Default true. */
  computeChunks?: boolean;
  /**
   * `all` (default, `ferry plan`): count every value a policy will change, to show in the plan.
   * `decisive` (`ferry run`): only what decides the plan (data-dependent cast rules, nullability);
   * on a 5.2M-row MySQL table the counting pass alone took about 5 s.
   */
  profile?: 'all' | 'decisive';
}

export async function buildPlan(
  job: Job,
  source: Connector,
  target: Connector,
  options: PlanOptions = {},
): Promise<Plan> {
  const selected = await selectTables(job, source);
  for (const [i, s] of selected.entries()) {
    if (selected.findIndex((o) => sameRef(o.ref, s.ref)) !== i) {
      throw new ConfigError(`table ${displayTable(s.ref)} is selected by two streams`);
    }
  }
  const streams: StreamPlan[] = [];
  const targets = new Map<string, string>();
  const parallel = Math.max(1, Math.min(job.parallel, source.capabilities.maxReaders, target.capabilities.maxWriters));
  for (const { spec, ref, parent } of selected) {
    let info: TableInfo;
    try {
      info = await source.introspector.describe(ref);
    } catch (err) {
      if (err instanceof TerminalError) throw new ConfigError(err.message, { stream: displayTable(ref) });
      throw err;
    }
    // A child table of flattened arrays lands beside its parent's target: `events__items`.
    const tref = parent
      ? { ...parent.target, name: parent.target.name + ref.name.slice(parent.source.name.length) }
      : targetRef(spec, ref, source, target);
    // Case-insensitive on the raw parts (SQLite names ignore case): displayTable would quote `T1`
    // as `"T1"`, which then never equals `t1`.
    const key = JSON.stringify([tref.schema?.toLowerCase() ?? null, tref.name.toLowerCase()]);
    const other = targets.get(key);
    if (other) throw new ConfigError(`streams ${other} and ${displayTable(ref)} both write ${displayTable(tref)}`);
    targets.set(key, displayTable(ref));
    try {
      const sp = await planStream(spec, info, tref, source, target, {
        computeChunks: options.computeChunks ?? true,
        profile: options.profile ?? 'all',
        parallel,
      });
      if (parent) sp.parent = parent.name;
      streams.push(sp);
      // Child tables (a files source's flattened arrays) are planned right after their parent.
      const children = (info.children ?? []).map((c) => ({ spec, ref: c, parent: sp }));
      selected.splice(selected.indexOf(selected.find((x) => x.ref === ref)!) + 1, 0, ...children);
    } catch (err) {
      // Messages that already begin with `stream <name>:` are not prefixed twice.
      if (err instanceof FerryError && !err.context.stream && !err.message.startsWith('stream '))
        err.context.stream = displayTable(ref);
      throw err;
    }
  }
  if (source.dialect !== target.dialect) uniqueIndexNames(streams, target);
  return {
    jobHash: job.hash,
    source: redactUrl(job.source),
    target: redactUrl(job.target),
    sourceDialect: source.dialect,
    targetDialect: target.dialect,
    parallel,
    streams,
    castRules: [...(job.streams[0]?.casts ?? []), ...(source.dialect === target.dialect ? [] : source.castRules)].map(
      formatRule,
    ),
    createdAt: new Date().toISOString(),
  };
}
