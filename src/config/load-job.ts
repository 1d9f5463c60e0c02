import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type CastRule, parseLogical } from '../core/cast-rules.js';
import { ConfigError } from '../core/errors.js';
import {
  type Compression,
  DEFAULT_CSV,
  defaultCompression,
  type FileFormat,
  type FileLayout,
  type FlattenOptions,
  parsePartition,
} from '../core/file-layout.js';
import { DEFAULT_POLICIES, type Policies } from '../core/policies.js';
import { registerSecret } from '../core/redact.js';
import {
  DEFAULT_BATCH_ROWS,
  DEFAULT_CHUNK_ROWS,
  DEFAULT_FILE_MAX_BYTES,
  DEFAULT_FILE_MAX_ROWS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_PARALLEL,
  DEFAULT_ROW_GROUP_ROWS,
  DEFAULT_SAMPLE_ROWS,
  type JobFile,
  jobSchema,
  type Mode,
} from './job-schema.js';

/** A stream as configured, with defaults applied. */
export interface StreamSpec {
  /** The key as written in the job file (`public.orders`, `"sales.*"`). */
  selector: string;
  target?: string;
  mode: Mode;
  chunkRows: number;
  /** chunk_rows was set in the job (not the default), so the planner keeps it as it is. */
  chunkRowsSet: boolean;
  batchRows: number;
  maxAttempts: number;
  columns?: string[];
  primaryKey?: string[];
  /** Rejected rows allowed before the stream fails. Default 0: any rejected row fails it. */
  maxRejects: number;
  policies: Policies;
  /** The user's cast rules for this stream: its own first, then the job's. */
  casts: CastRule[];
  /** Profile the source at plan time. Default true. */
  profile: boolean;
  /** The file layout (used by a files target), with defaults applied. */
  layout: FileLayout;
  /** File settings the job sets for this stream (an error for a database target). */
  fileKeys: string[];
  /** How a files source reads the stream (ignored by a database source). */
  files: FilesSourceSettings;
  /** Files-source-only settings the job sets (an error for a database source). */
  sourceKeys: string[];
}

/** A stream of a files source as the job configures it. */
export interface FilesSourceSettings {
  /** Glob under the source URL; null: the stream's folder (its ferry manifest when there is one). */
  glob: string | null;
  /** Set only when the job names it (else each file's extension decides). */
  format: FileFormat | null;
  compression: Compression | null;
  csv: FileLayout['csv'] & { escape: string };
  encoding: string;
  flatten: FlattenOptions | null;
  /** Column -> type, from a `columns:` mapping. */
  columnTypes: Record<string, string>;
  sampleRows: number;
}

/** A validated job: what `plan`, `run`, `status` and `verify` take. */
export interface Job {
  /** Where the job came from (a file path, or `<inline>`). */
  origin: string;
  name: string;
  source: string;
  target: string;
  /** Folder of the state store and logs. */
  stateDir: string;
  parallel: number;
  streams: StreamSpec[];
  /** Hash of the settings that shape a plan; a run is resumed only by the same job. */
  hash: string;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL/i;

/** Replaces `${VAR}` / `${VAR:-default}` in every string of the document. */
function interpolate(value: unknown, keyPath: string, origin: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{[^}]+\}$/.test(value.trim());
    const text = value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      // As in the shell: `${VAR:-default}` takes the default when VAR is unset or empty.
      const v = fallback !== undefined && !env[name] ? fallback : env[name];
      if (v === undefined) {
        throw new ConfigError(`${origin}: ${keyPath || '(root)'}: environment variable ${name} is not set`, {
          hint: `export ${name}=... or write \${${name}:-default}`,
        });
      }
      if (SECRET_NAME.test(name)) registerSecret(v);
      return v;
    });
    // `chunk_rows: ${CHUNK_ROWS}`: a value that is one reference and reads as a number is a number.
    return whole && /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, `${keyPath}[${i}]`, origin, env));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, keyPath ? `${keyPath}.${k}` : k, origin, env);
    return out;
  }
  return value;
}

function formatIssue(origin: string, issue: z.core.$ZodIssue, raw: unknown): string {
  const keyPath = issue.path.map(String).join('.');
  let got: unknown = raw;
  for (const p of issue.path)
    got = got && typeof got === 'object' ? (got as Record<string, unknown>)[p as string] : undefined;
  if (issue.code === 'unrecognized_keys') {
    const where = keyPath ? `${keyPath}: ` : '';
    return `${origin}: ${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (see docs/job-file.md for the keys)`;
  }
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  return `${origin}: ${keyPath || '(root)'}: ${issue.message} (got ${shown})`;
}

/** Validates a parsed job document (already an object) and applies defaults. */
export function jobFromObject(
  raw: unknown,
  origin: string,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
  name = 'job',
): Job {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${origin}: the job file must be a YAML mapping with source, target and streams`);
  }
  const doc = interpolate(raw, '', origin, env);
  const parsed = jobSchema.safeParse(doc);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => formatIssue(origin, i, doc)).join('\n'));
  }
  const file: JobFile = parsed.data;
  // A cast rule's `to:` is checked now, so a typo is a config error before anything connects.
  const castLists: [string, { to?: string }[] | undefined][] = [
    ['casts', file.casts],
    ...Object.entries(file.streams).map(([k, s]): [string, { to?: string }[] | undefined] => [
      `streams.${k}.casts`,
      s?.casts,
    ]),
  ];
  for (const [where, list] of castLists) {
    list?.forEach((r, i) => {
      if (r.to !== undefined) parseLogical(r.to, `${origin}: ${where}[${i}].to`);
    });
  }
  const d = file.defaults ?? {};
  const streams: StreamSpec[] = Object.entries(file.streams).map(([selector, s]) => ({
    selector,
    target: s?.target,
    mode: s?.mode ?? d.mode ?? 'full-refresh',
    chunkRows: s?.chunk_rows ?? d.chunk_rows ?? DEFAULT_CHUNK_ROWS,
    chunkRowsSet: (s?.chunk_rows ?? d.chunk_rows) !== undefined,
    batchRows: s?.batch_rows ?? d.batch_rows ?? DEFAULT_BATCH_ROWS,
    maxAttempts: s?.max_attempts ?? d.max_attempts ?? DEFAULT_MAX_ATTEMPTS,
    columns: Array.isArray(s?.columns) ? s.columns : undefined,
    primaryKey: s?.primary_key,
    maxRejects: s?.max_rejects ?? d.max_rejects ?? 0,
    policies: { ...DEFAULT_POLICIES, ...d.policies, ...s?.policies },
    casts: [...(s?.casts ?? []), ...(file.casts ?? [])] as CastRule[],
    profile: d.profile ?? true,
    layout: fileLayout(d, s),
    fileKeys: FILE_KEYS.filter((k) => (s && s[k] !== undefined) || d[k as keyof typeof d] !== undefined),
    files: filesSource(d, s),
    sourceKeys: SOURCE_KEYS.filter(
      (k) => s?.[k] !== undefined && (k !== 'columns' || !Array.isArray(s.columns)) && (k !== 'csv' || !!s.csv?.escape),
    ),
  }));
  for (const s of streams) {
    if (s.layout.compression === 'snappy' && s.layout.format !== 'parquet') {
      throw new ConfigError(`${origin}: streams.${s.selector}: compression snappy is for Parquet only`, {
        hint: 'use gzip or zstd for csv and jsonl',
      });
    }
  }
  const stateDir = path.resolve(baseDir, file.state ?? path.join('.ferry', name));
  const hash = createHash('sha256')
    .update(JSON.stringify({ source: file.source, target: file.target, streams }))
    .digest('hex')
    .slice(0, 16);
  return {
    origin,
    name,
    source: file.source,
    target: file.target,
    stateDir,
    parallel: d.parallel ?? DEFAULT_PARALLEL,
    streams,
    hash,
  };
}

const FILE_KEYS = [
  'format',
  'compression',
  'file_max_rows',
  'file_max_bytes',
  'row_group_rows',
  'csv',
  'partition_by',
] as const;

/** Keys only a files source reads (`columns` as a mapping of types, `csv.escape`). */
const SOURCE_KEYS = ['files', 'encoding', 'sample_rows', 'flatten', 'columns', 'csv'] as const;

type Settings = NonNullable<JobFile['defaults']>;

function filesSource(d: Settings, s: NonNullable<JobFile['streams'][string]> | null): FilesSourceSettings {
  const csv = { ...DEFAULT_CSV, escape: '', ...stripUndefined(d.csv), ...stripUndefined(s?.csv) };
  const f = s?.flatten;
  return {
    glob: s?.files ?? null,
    format: s?.format ?? d.format ?? null,
    compression: s?.compression ?? d.compression ?? null,
    csv: { ...csv, escape: csv.escape || csv.quote },
    encoding: s?.encoding ?? 'utf-8',
    flatten: f
      ? {
          column: f.column ?? null,
          maxDepth: f.max_depth ?? 3,
          separator: f.separator ?? '__',
          arrays: f.arrays ?? 'json',
        }
      : null,
    columnTypes: s?.columns && !Array.isArray(s.columns) ? (s.columns as Record<string, string>) : {},
    sampleRows: s?.sample_rows ?? DEFAULT_SAMPLE_ROWS,
  };
}

function fileLayout(d: Settings, s: NonNullable<JobFile['streams'][string]> | null): FileLayout {
  const format = s?.format ?? d.format ?? 'parquet';
  return {
    format,
    compression: s?.compression ?? d.compression ?? defaultCompression(format),
    partitionBy: (s?.partition_by ?? []).map(parsePartition),
    fileMaxRows: s?.file_max_rows ?? d.file_max_rows ?? DEFAULT_FILE_MAX_ROWS,
    fileMaxBytes: s?.file_max_bytes ?? d.file_max_bytes ?? DEFAULT_FILE_MAX_BYTES,
    rowGroupRows: s?.row_group_rows ?? d.row_group_rows ?? DEFAULT_ROW_GROUP_ROWS,
    csv: { ...DEFAULT_CSV, ...stripUndefined(d.csv), ...stripUndefined(s?.csv) },
  };
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Reads, interpolates and validates a job file. Errors name the file, the key path and what is expected. */
export function loadJob(file: string, env: NodeJS.ProcessEnv = process.env): Job {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the job file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    const where = pos ? `:${pos.line}:${pos.col}` : '';
    throw new ConfigError(`${file}${where}: malformed YAML: ${e.message.split('\n')[0]}`);
  }
  const name = path.basename(file).replace(/\.(ya?ml)$/i, '');
  return jobFromObject(doc.toJS(), file, path.dirname(path.resolve(file)), env, name);
}
