/**
 * A lake as a source: the streams the job names, each a set of files under the source root
 * (a glob, or a ferry manifest when the stream's folder has one). Each file is one chunk.
 *
 * - A manifest (written by ferry) gives typed columns, the key and each file's size and sha256:
 *   exactly the listed files are read, each checked against it.
 * - Parquet from any writer gives typed columns from its footer (files-parquet.ts).
 * - CSV and JSONL give text: column types are inferred by sampling (files-infer.ts) or set by the
 *   job, and the values go to the database as text for it to cast (ColumnInfo.text); a value it
 *   refuses is a reject, not a failed load. A JSON document column is opened up into columns and
 *   child tables (files-flatten.ts).
 *
 * A file is read only if it is still the version the plan listed (S3 ETag, local mtime and size).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import picomatch from 'picomatch';
import type {
  ColumnInfo,
  ReadRequest,
  RowBatch,
  SourcePart,
  SourceStreamSpec,
  TableInfo,
} from '../../core/connector.js';
import { ConfigError, TerminalError } from '../../core/errors.js';
import type { Compression, FileFormat } from '../../core/file-layout.js';
import { displayTable, type TableRef } from '../../core/identifiers.js';
import type { LogicalType } from '../../core/logical-types.js';
import { InvalidText, UnreadableValue } from '../../core/policies.js';
import { decompressor } from './files-compress.js';
import { type ChildPlan, childRows, type FlatPlan, flattenRow, planFlatten } from './files-flatten.js';
import { parseColumnType, TypeGuesser } from './files-infer.js';
import { MANIFEST, type Manifest, streamFolder } from './files-manifest.js';
import { type AsyncBuffer, type ParquetSourceColumn, parquetSourceColumn, readRowGroups } from './files-parquet.js';
import { FilesReader, manifestTable } from './files-reader.js';
import type { Storage } from './files-storage.js';
import { csvRecords, decodeText, fieldValue, jsonLines, type TextEncoding } from './files-text.js';
import { readJson } from './files-writer.js';

const BATCH = 10_000;

/** `.csv.gz`, `.jsonl.zst`, `.parquet`: the format and compression a file's name says. */
function kindOf(key: string): { format: FileFormat | null; compression: Compression } {
  const m = /\.([a-z0-9]+)(?:\.(gz|gzip|zst|zstd))?$/i.exec(key);
  const ext = m?.[1].toLowerCase();
  const comp = m?.[2]?.toLowerCase();
  const compression: Compression = comp?.startsWith('g') ? 'gzip' : comp?.startsWith('z') ? 'zstd' : 'none';
  const format: FileFormat | null =
    ext === 'csv' || ext === 'tsv' || ext === 'txt'
      ? 'csv'
      : ext === 'jsonl' || ext === 'ndjson' || ext === 'json'
        ? 'jsonl'
        : ext === 'parquet' || ext === 'pq'
          ? 'parquet'
          : null;
  return { format, compression };
}

/** The literal folder a glob starts in (listed instead of the whole root). */
function globBase(glob: string): string {
  const parts = glob.split('/');
  const out: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (/[*?[\]{}()!+@]/.test(p)) break;
    out.push(p);
  }
  return out.join('/');
}

/** A column of a text file: where its value comes from in a record. */
type Pick_ = { from: 'field'; index: number } | { from: 'flat'; index: number };

interface TextShape {
  /** Names of the record's own fields (CSV header, or JSONL keys at depth 1). */
  fields: string[];
  /** JSONL: how a record's fields are taken (top-level keys, `_extra`). */
  base: FlatPlan | null;
  /** The document column's flattening, and the field it reads. */
  doc: { field: number; plan: FlatPlan; prefix: string } | null;
  picks: Pick_[];
}

interface ChildShape {
  parent: Stream;
  plan: ChildPlan;
  /** Positions of the parent key columns in the parent's rows. */
  keyIndex: number[];
  /** Where the array is: in the flattened document, or the JSONL record itself. */
  inDoc: boolean;
}

interface Stream {
  spec: SourceStreamSpec;
  info: TableInfo;
  parts: SourcePart[];
  format: FileFormat;
  manifest: Manifest | null;
  folder: string;
  text: TextShape | null;
  parquet: ParquetSourceColumn[] | null;
  child: ChildShape | null;
}

function refKey(ref: TableRef): string {
  return JSON.stringify([ref.schema, ref.name]);
}

/** A JSON leaf as the text the database casts (`true`, `12.5`); objects were made JSON text by flattening. */
function jsonText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export class FilesSource {
  private readonly declared = new Map<string, SourceStreamSpec>();
  private readonly streams = new Map<string, Promise<Stream>>();
  /** Rows read per stream and file version (the ledger's source count, without a second read). */
  private readonly rowsRead = new Map<string, number>();
  private readonly manifests: FilesReader;

  constructor(private readonly storage: Storage) {
    this.manifests = new FilesReader(storage);
  }

  declare(specs: readonly SourceStreamSpec[]): void {
    for (const s of specs) this.declared.set(refKey(s.ref), s);
  }

  listTables(): TableRef[] {
    return [...this.declared.values()].map((s) => s.ref);
  }

  async describe(ref: TableRef): Promise<TableInfo> {
    return (await this.stream(ref)).info;
  }

  async parts(ref: TableRef): Promise<SourcePart[]> {
    const st = await this.stream(ref);
    // Listed again on every call (a resume compares them with the plan's).
    return st.child
      ? this.listParts(st.child.parent.spec, st.child.parent.manifest)
      : this.listParts(st.spec, st.manifest);
  }

  private async stream(ref: TableRef): Promise<Stream> {
    const k = refKey(ref);
    let p = this.streams.get(k);
    if (!p) {
      let spec = this.declared.get(k);
      if (!spec) {
        // A child table (of flattened arrays) is known once its parent is described (a resumed
        // run reads it without planning again).
        for (const s of [...this.declared.values()]) if (ref.name.startsWith(s.ref.name)) await this.stream(s.ref);
        const known = this.streams.get(k);
        if (known) return known;
        spec = this.declared.get(k);
      }
      if (!spec) throw new TerminalError(`${displayTable(ref)} is not a stream of this job's files source`);
      p = this.resolve(spec);
      this.streams.set(k, p);
      p.catch(() => this.streams.delete(k));
    }
    return p;
  }

  /** The stream's manifest, when the job names none of its files and its folder has one. */
  private async manifestOf(spec: SourceStreamSpec): Promise<{ manifest: Manifest | null; folder: string }> {
    if (spec.files && !spec.files.endsWith(MANIFEST)) return { manifest: null, folder: globBase(spec.files) };
    const folder = spec.files ? spec.files.slice(0, -MANIFEST.length).replace(/\/$/, '') : streamFolder(spec.ref);
    const manifest = await readJson<Manifest>(this.storage, folder ? `${folder}/${MANIFEST}` : MANIFEST);
    if (!manifest && spec.files) {
      throw new ConfigError(`stream ${displayTable(spec.ref)}: no ${spec.files} in ${this.storage.location}`);
    }
    return { manifest, folder };
  }

  private async listParts(spec: SourceStreamSpec, manifest: Manifest | null): Promise<SourcePart[]> {
    const where = `stream ${displayTable(spec.ref)}`;
    if (manifest) {
      const { folder } = await this.manifestOf(spec);
      return manifest.files.map((f) => ({
        path: folder ? `${folder}/${f.path}` : f.path,
        size: f.bytes,
        etag: f.sha256,
      }));
    }
    const glob = spec.files ?? `${streamFolder(spec.ref)}/**`;
    const match = picomatch(glob, { dot: false });
    const base = globBase(glob);
    const parts: SourcePart[] = [];
    for await (const o of this.storage.list(base ? `${base}/` : '')) {
      if (o.temp || !match(o.key) || o.key.endsWith('/')) continue;
      // Without a glob, the folder's data files only (not a Spark `_SUCCESS` or ferry's own markers).
      if (!spec.files && (kindOf(o.key).format === null || o.key.includes('/_ferry/'))) continue;
      parts.push({ path: o.key, size: o.size, etag: o.etag ?? '' });
    }
    if (parts.length === 0) {
      throw new ConfigError(`${where}: no file matches ${glob} in ${this.storage.location}`, {
        hint: 'check files: (a glob under the source URL, e.g. "orders/**/*.csv.gz")',
      });
    }
    parts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return parts;
  }

  private formatOf(spec: SourceStreamSpec, parts: SourcePart[]): FileFormat {
    if (spec.format) return spec.format;
    const formats = new Set(parts.map((p) => kindOf(p.path).format));
    const where = `stream ${displayTable(spec.ref)}`;
    if (formats.has(null)) {
      const odd = parts.find((p) => kindOf(p.path).format === null)!;
      throw new ConfigError(`${where}: cannot tell the format of ${odd.path} from its name`, {
        hint: 'set format: csv, jsonl or parquet',
      });
    }
    if (formats.size > 1) {
      throw new ConfigError(`${where}: the files mix formats (${[...formats].join(', ')})`, {
        hint: 'narrow files: to one format, or split the stream',
      });
    }
    return [...formats][0] as FileFormat;
  }

  private async resolve(spec: SourceStreamSpec): Promise<Stream> {
    const { manifest, folder } = await this.manifestOf(spec);
    const parts = await this.listParts(spec, manifest);
    if (manifest) {
      const info = manifestTable(spec.ref, manifest);
      if (spec.primaryKey) info.primaryKey = spec.primaryKey;
      info.note = `columns and key from ${folder}/${MANIFEST} (written by ferry, run ${manifest.run_id})`;
      return { spec, info, parts, format: manifest.format, manifest, folder, text: null, parquet: null, child: null };
    }
    const format = this.formatOf(spec, parts);
    const st: Stream = {
      spec,
      info: null as never,
      parts,
      format,
      manifest: null,
      folder,
      text: null,
      parquet: null,
      child: null,
    };
    if (format === 'parquet') await this.describeParquet(st);
    else await this.describeText(st);
    return st;
  }

  private async parquetFile(part: SourcePart): Promise<AsyncBuffer> {
    const size = part.size;
    return {
      byteLength: size,
      slice: async (start, end) => {
        const b = await this.storage.readRange(part.path, start, end ?? size);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
      },
    };
  }

  private async describeParquet(st: Stream): Promise<void> {
    const { parquetMetadataAsync } = await import('hyparquet');
    const meta = await parquetMetadataAsync(await this.parquetFile(st.parts[0]));
    const where = `stream ${displayTable(st.spec.ref)}: ${st.parts[0].path}`;
    const cols: ParquetSourceColumn[] = [];
    for (let i = 1; i < meta.schema.length; i++) {
      const e = meta.schema[i];
      if (e.num_children) {
        throw new ConfigError(`${where}: column ${e.name} is nested (a Parquet LIST, MAP or group)`, {
          hint: 'ferry reads flat Parquet columns; flatten the column when writing the file',
        });
      }
      cols.push(parquetSourceColumn(e));
    }
    st.parquet = cols;
    const columns: ColumnInfo[] = cols.map((c) => {
      const col: ColumnInfo = {
        name: c.name,
        nativeType: c.stored,
        logical: c.logical,
        nullable: c.nullable,
        default: null,
      };
      if (c.note) col.note = c.note;
      return col;
    });
    this.applyTypes(st.spec, columns, false);
    const rows = meta.row_groups.reduce((a, g) => a + Number(g.num_rows), 0);
    st.info = {
      ref: st.spec.ref,
      columns,
      primaryKey: st.spec.primaryKey ?? [],
      indexes: [],
      estimatedRows: rows * st.parts.length,
      note: `columns from the Parquet footer of ${st.parts[0].path}`,
    };
  }

  /** The job's `columns:` types over the inferred ones. */
  private applyTypes(spec: SourceStreamSpec, columns: ColumnInfo[], text: boolean): void {
    for (const [name, type] of Object.entries(spec.columnTypes)) {
      const c = columns.find((x) => x.name === name);
      const where = `stream ${displayTable(spec.ref)}: columns: ${name}`;
      if (!c) {
        throw new ConfigError(`${where}: no such column in the files`, {
          hint: `the columns found: ${columns.map((x) => x.name).join(', ')}`,
        });
      }
      if (!text)
        throw new ConfigError(`${where}: a Parquet column keeps its stored type`, { hint: 'use casts: to change it' });
      c.logical = parseColumnType(type, where);
      c.note = undefined;
      c.nativeType = `${type} (set by the job)`;
    }
  }

  /** Records of a text file as field arrays: CSV fields (text, or null) or one parsed JSONL document. */
  private async *records(
    st: Stream,
    part: SourcePart,
    check: boolean,
    meter?: { bytes: number },
  ): AsyncIterable<{ values: unknown[]; line: number; bad?: string }[]> {
    const spec = st.spec;
    const kind = kindOf(part.path);
    const compression = spec.compression ?? kind.compression;
    let body: NodeJS.ReadableStream & AsyncIterable<Buffer>;
    if (check) {
      const now = await this.storage.stat(part.path).catch(() => null);
      if (!now || now.size !== part.size || now.etag !== part.etag) {
        throw new TerminalError(`${part.path} changed (or went) after the plan listed it`, {
          hint: 'rerun: the run is resumed, and a changed file is loaded again',
        });
      }
      body = (await this.storage.read(part.path, part.etag.startsWith('mtime:') ? undefined : part.etag)) as never;
    } else body = (await this.storage.read(part.path)) as never;
    const raw = body;
    if (meter) {
      // Bytes of the file read so far (the sample's share of the stream, for the row estimate).
      body = Readable.from(
        (async function* () {
          for await (const c of raw) {
            meter.bytes += c.length;
            yield c;
          }
        })(),
      ) as never;
    }
    const dec = await decompressor(compression === 'snappy' ? 'none' : compression);
    const bytes: AsyncIterable<Buffer> = dec ? (body.pipe(dec) as never) : body;
    const text = decodeText(bytes, spec.encoding as TextEncoding);
    try {
      if (st.format === 'jsonl') {
        for await (const lines of jsonLines(text)) {
          yield lines.map((l) => {
            try {
              return { values: [JSON.parse(l.text)], line: l.line };
            } catch (err) {
              return { values: [null], line: l.line, bad: `line ${l.line}: not JSON (${(err as Error).message})` };
            }
          });
        }
        return;
      }
      const o = spec.csv;
      let header = o.header;
      const records = csvRecords(text, { delimiter: o.delimiter, quote: o.quote, escape: o.escape });
      try {
        for await (const recs of records) {
          let list = recs;
          if (header && list.length > 0) {
            header = false;
            list = list.slice(1);
          }
          // A blank line is no record (as PostgreSQL's COPY csv and DuckDB read it), unless the
          // file has one column, where it is that column's NULL.
          const wide = (st.text?.fields.length ?? 2) > 1;
          if (wide) list = list.filter((r) => r.fields.length > 1 || r.fields[0].quoted || r.fields[0].text !== '');
          yield list.map((r) => ({
            values: r.fields.map((f) => (!f.quoted && f.text === o.null ? null : fieldValue(f.text))),
            line: r.line,
          }));
        }
      } catch (err) {
        // An unterminated quote at the end of the file: the last record is a reject, not a failed load.
        const m = /unterminated quoted field starting on line (\d+)/.exec((err as Error).message);
        if (!m) throw new TerminalError(`${part.path}: ${(err as Error).message}`, { stream: displayTable(spec.ref) });
        yield [{ values: [null], line: Number(m[1]), bad: `line ${m[1]}: a quoted field is never closed` }];
      }
    } finally {
      (body as unknown as { destroy?: () => void }).destroy?.();
      (raw as unknown as { destroy?: () => void }).destroy?.();
    }
  }

  /** A CSV file's header (its first record), or generated names `column1...` without one. */
  private async headerOf(st: Stream, part: SourcePart): Promise<string[]> {
    const o = st.spec.csv;
    const body = await this.storage.read(part.path);
    const kind = kindOf(part.path);
    const compression = st.spec.compression ?? kind.compression;
    const dec = await decompressor(compression === 'snappy' ? 'none' : compression);
    const bytes: AsyncIterable<Buffer> = dec ? (body.pipe(dec) as never) : (body as never);
    try {
      for await (const recs of csvRecords(decodeText(bytes, st.spec.encoding as TextEncoding), o)) {
        if (recs.length === 0) continue;
        const first = recs[0].fields.map((f) => f.text);
        return o.header ? first : first.map((_f, i) => `column${i + 1}`);
      }
      return [];
    } finally {
      (body as unknown as { destroy?: () => void }).destroy?.();
    }
  }

  private async describeText(st: Stream): Promise<void> {
    const spec = st.spec;
    const where = `stream ${displayTable(spec.ref)}`;
    const flatten = spec.flatten;
    // Sample records from the first files (at most 16: a stream of many small files is not read
    // whole before the run).
    const sample: unknown[][] = [];
    const meter = { bytes: 0 };
    for (const part of st.parts.slice(0, 16)) {
      for await (const batch of this.records(st, part, false, meter)) {
        for (const r of batch) if (!r.bad) sample.push(r.values);
        if (sample.length >= spec.sampleRows) break;
      }
      if (sample.length >= spec.sampleRows) break;
    }
    sample.length = Math.min(sample.length, spec.sampleRows);
    let fields: string[];
    let base: FlatPlan | null = null;
    if (st.format === 'csv') {
      fields = await this.headerOf(st, st.parts[0]);
      if (fields.length === 0) throw new ConfigError(`${where}: ${st.parts[0].path} is empty (no header)`);
    } else {
      // JSONL: the record's top-level keys are its fields (or, flattening the whole record, its paths).
      const whole = flatten && flatten.column === null;
      base = planFlatten(
        sample.map((v) => v[0]),
        whole ? flatten : { column: null, maxDepth: 1, separator: flatten?.separator ?? '__', arrays: 'json' },
      );
      fields = [...base.columns.map((c) => c.name), base.extra];
    }
    const toFields = (v: unknown[]): unknown[] => (base ? flattenRow(v[0], base) : v);
    const rows = sample.map(toFields);
    let doc: TextShape['doc'] = null;
    if (flatten?.column) {
      const field = fields.indexOf(flatten.column);
      if (field < 0) {
        throw new ConfigError(`${where}: flatten: no column ${JSON.stringify(flatten.column)} in the files`, {
          hint: `the columns found: ${fields.join(', ')}`,
        });
      }
      const docs = rows.map((r) => parseDoc(r[field]));
      const prefix = `${flatten.column}${flatten.separator}`;
      const plan = planFlatten(docs, flatten);
      doc = { field, plan, prefix };
    }
    const picks: Pick_[] = [];
    const names: string[] = [];
    const jsonCols = new Set<number>();
    fields.forEach((f, i) => {
      if (doc && i === doc.field) {
        doc.plan.columns.forEach((c, j) => {
          picks.push({ from: 'flat', index: j });
          names.push(doc!.prefix + c.name);
          if (c.json) jsonCols.add(names.length - 1);
        });
        picks.push({ from: 'flat', index: doc.plan.columns.length });
        names.push(doc.prefix + doc.plan.extra);
        jsonCols.add(names.length - 1);
        return;
      }
      picks.push({ from: 'field', index: i });
      names.push(f);
      if (base && (i === fields.length - 1 || base.columns[i]?.json)) jsonCols.add(names.length - 1);
    });
    // The record's own fields keep their names; a flattened name that one of them (or an earlier
    // flattened name) already has, ignoring case, gets a hash of its path: never two columns alike.
    const taken = new Set<string>();
    picks.forEach((p, j) => {
      if (p.from === 'field') taken.add(names[j].toLowerCase());
    });
    picks.forEach((p, j) => {
      if (p.from === 'flat') names[j] = claim(taken, names[j], `${flatten?.column}\u0000${names[j]}`);
    });
    st.text = { fields, base, doc, picks };
    const guessers = names.map(() => new TypeGuesser({ source: st.format === 'csv' ? 'csv' : 'jsonl' }));
    for (const r of rows) {
      const flat = doc ? flattenRow(parseDoc(r[doc.field]), doc.plan) : null;
      picks.forEach((p, j) => {
        guessers[j].add(p.from === 'field' ? r[p.index] : flat![p.index]);
      });
    }
    const columns: ColumnInfo[] = names.map((name, j) => {
      const g = guessers[j].result();
      const logical: LogicalType = jsonCols.has(j) ? { kind: 'json' } : g.logical;
      return {
        name,
        nativeType: `${st.format} ${jsonCols.has(j) ? 'json' : 'text'}`,
        logical,
        nullable: true,
        default: null,
        text: true,
        note: jsonCols.has(j) ? undefined : `inferred from ${g.sampled - g.nulls} non-null of ${g.sampled} sampled`,
      };
    });
    // The notes are for `ferry plan`; a note also marks a lossy mapping, so keep them off the columns.
    for (const c of columns) c.note = undefined;
    this.applyTypes(spec, columns, true);
    const key = spec.primaryKey ?? [];
    for (const k of key) {
      const c = columns.find((x) => x.name === k);
      if (!c) throw new ConfigError(`${where}: primary_key: no column ${JSON.stringify(k)} in the files`);
      // NOT NULL while loading: a row without its key is a reject, not a failed swap.
      c.nullable = false;
    }
    const childPlans = doc ? doc.plan.children : (base?.children ?? []);
    const children: TableRef[] = [];
    for (const cp of childPlans) {
      if (key.length === 0) {
        throw new ConfigError(
          `${where}: flatten arrays: child-table needs primary_key (the parent key each child row carries)`,
          {
            hint: 'set primary_key: [_id] (or the document id column)',
          },
        );
      }
      const name = `${spec.ref.name}${flatten!.separator}${doc ? doc.prefix : ''}${cp.name}`;
      const ref = { schema: spec.ref.schema, name };
      children.push(ref);
      const owners = doc ? rows.map((r) => parseDoc(r[doc.field])) : sample.map((v) => v[0]);
      this.defineChild(st, ref, cp, owners, columns);
    }
    st.info = {
      ref: spec.ref,
      columns,
      primaryKey: key,
      indexes: [],
      // The sample scaled by the bytes it took to all the files' bytes (an estimate for progress only).
      estimatedRows: Math.round(sample.length * (st.parts.reduce((a, p) => a + p.size, 0) / Math.max(1, meter.bytes))),
      children,
      note: `${st.format.toUpperCase()} text: types inferred from ${sample.length} sampled rows of ${st.parts.length} file(s); the database casts each value, and refuses go to rejects`,
    };
  }

  private defineChild(
    parent: Stream,
    ref: TableRef,
    plan: ChildPlan,
    owners: unknown[],
    parentColumns: ColumnInfo[],
  ): void {
    const key = parent.spec.primaryKey!;
    const keyIndex = key.map((k) => parentColumns.findIndex((c) => c.name === k));
    // Array elements are JSON values whatever the file's format.
    const guessers = plan.columns.map(() => new TypeGuesser({ source: 'jsonl' }));
    for (const owner of owners) {
      for (const cr of childRows(owner, plan)) {
        for (let j = 1; j < cr.length; j++) guessers[j - 1].add(cr[j]);
      }
    }
    const inDoc = parent.text!.doc !== null;
    const childTaken = new Set([...key, '_index'].map((n) => n.toLowerCase()));
    const columns: ColumnInfo[] = [
      ...keyIndex.map((i) => ({ ...parentColumns[i], nullable: false })),
      {
        name: '_index',
        nativeType: 'array position',
        logical: { kind: 'int32' },
        nullable: false,
        default: null,
        text: true,
      },
      ...plan.columns.map(
        (c, j): ColumnInfo => ({
          // An element's own `_id` or `_index` must not take the parent key's or the position's name.
          name: claim(childTaken, c.name, c.path.join('\u0000')),
          nativeType: `${parent.format} ${c.json ? 'json' : 'text'}`,
          logical: c.json ? { kind: 'json' } : guessers[j].result().logical,
          nullable: true,
          default: null,
          text: true,
        }),
      ),
    ];
    const child: Stream = {
      ...parent,
      spec: { ...parent.spec, ref },
      info: {
        ref,
        columns,
        primaryKey: [...key, '_index'],
        indexes: [],
        estimatedRows: parent.info?.estimatedRows ?? 0,
        note: `rows of the array ${plan.path.join('.')} in each document of ${displayTable(parent.spec.ref)}, linked by ${key.join(', ')}`,
      },
      child: { parent, plan, keyIndex, inDoc },
    };
    this.declared.set(refKey(ref), child.spec);
    this.streams.set(refKey(ref), Promise.resolve(child));
  }

  /** Rows of one file (a chunk), in the requested columns' order. */
  async *read(req: ReadRequest, signal?: AbortSignal): AsyncIterable<RowBatch> {
    const st = await this.stream(req.table);
    const part = req.part;
    if (!part) {
      // The whole stream (verify): every file as listed now.
      for (const p of await this.parts(req.table)) yield* this.read({ ...req, part: p }, signal);
      return;
    }
    const order = req.columns.map((c) => {
      const i = st.info.columns.findIndex((x) => x.name === c.name);
      if (i < 0) throw new TerminalError(`${displayTable(req.table)}: no column ${c.name}`);
      return i;
    });
    let rows = 0;
    for await (const full of this.rowsOf(st, part, true)) {
      if (signal?.aborted) return;
      rows += full.length;
      for (let s = 0; s < full.length; s += BATCH) {
        const slice = full.slice(s, s + BATCH);
        const out =
          order.every((i, j) => i === j) && order.length === st.info.columns.length
            ? slice
            : slice.map((r) => order.map((i) => r[i]));
        yield { rows: out, bytes: out.length * 64 * order.length };
      }
    }
    this.rowsRead.set(`${refKey(req.table)}|${part.path}|${part.etag}`, rows);
  }

  /** Every row of a file as the stream's columns. */
  private async *rowsOf(st: Stream, part: SourcePart, check: boolean): AsyncIterable<unknown[][]> {
    if (st.manifest) {
      for await (const b of this.manifests.readFile(st.manifest, st.folder, manifestEntry(st, part), st.info.columns))
        yield b.rows;
      return;
    }
    if (st.parquet) {
      yield* this.parquetRows(st, part, check);
      return;
    }
    const shape = st.child ? st.child.parent.text! : st.text!;
    const parentWidth = shape.picks.length;
    for await (const batch of this.records(st.child ? st.child.parent : st, part, check)) {
      const out: unknown[][] = [];
      for (const r of batch) {
        if (r.bad) {
          if (st.child) continue;
          const row = new Array(parentWidth).fill(null);
          row[0] = new UnreadableValue(r.bad, '');
          out.push(row);
          continue;
        }
        const fields = shape.base ? flattenRow(r.values[0], shape.base).map(jsonText) : r.values;
        if (!shape.base && fields.length !== shape.fields.length) {
          if (st.child) continue;
          const row = new Array(parentWidth).fill(null);
          row[0] = new UnreadableValue(
            `line ${r.line}: ${fields.length} fields, the header has ${shape.fields.length}`,
            fields.map((f) => (f === null ? '' : String(f))).join(st.spec.csv.delimiter),
          );
          out.push(row);
          continue;
        }
        let docValue: unknown = null;
        let flat: unknown[] | null = null;
        if (shape.doc) {
          const raw = fields[shape.doc.field];
          docValue = parseDoc(raw);
          if (docValue === BAD_DOC && !st.child) {
            const row = new Array(parentWidth).fill(null);
            row[0] = new UnreadableValue(
              `line ${r.line}: column ${shape.fields[shape.doc.field]} is not JSON`,
              String(raw),
            );
            out.push(row);
            continue;
          }
          flat = flattenRow(docValue, shape.doc.plan).map(jsonText);
        }
        // Without a document column the record's fields are the row (no copy per row).
        const row = flat ? shape.picks.map((p) => (p.from === 'field' ? fields[p.index] : flat![p.index])) : fields;
        if (!st.child) {
          out.push(row);
          continue;
        }
        const c = st.child;
        const owner = c.inDoc ? docValue : r.values[0];
        const key = c.keyIndex.map((i) => row[i]);
        for (const cr of childRows(owner, c.plan)) out.push([...key, String(cr[0]), ...cr.slice(1).map(jsonText)]);
      }
      if (out.length) yield out;
    }
  }

  private async *parquetRows(st: Stream, part: SourcePart, check: boolean): AsyncIterable<unknown[][]> {
    if (check) {
      const now = await this.storage.stat(part.path).catch(() => null);
      if (!now || now.size !== part.size || now.etag !== part.etag) {
        throw new TerminalError(`${part.path} changed (or went) after the plan listed it`, {
          hint: 'rerun: the run is resumed, and a changed file is loaded again',
        });
      }
    }
    const cols = st.parquet!;
    const file = await this.parquetFile(part);
    const { parquetMetadataAsync } = await import('hyparquet');
    const meta = await parquetMetadataAsync(file);
    const have = new Set(meta.schema.slice(1).map((e) => e.name));
    const missing = cols.filter((c) => !have.has(c.name)).map((c) => c.name);
    if (missing.length) {
      throw new TerminalError(`${part.path} has no column ${missing.join(', ')} (the first file of the stream has)`, {
        hint: 'the files of one stream must share their columns; narrow files:',
      });
    }
    for await (const group of readRowGroups(
      file,
      cols.map((c) => c.name),
    )) {
      for (const r of group) {
        for (let j = 0; j < cols.length; j++) {
          const v = r[j];
          r[j] = v === null || v === undefined ? null : cols[j].convert(v);
        }
      }
      yield group;
    }
  }

  /** Rows in the stream's files (counted while read, else by reading them). */
  async count(ref: TableRef): Promise<number> {
    const st = await this.stream(ref);
    if (st.manifest && !st.child) return st.manifest.rows;
    let n = 0;
    for (const part of await this.parts(ref)) {
      const k = `${refKey(ref)}|${part.path}|${part.etag}`;
      let rows = this.rowsRead.get(k);
      if (rows === undefined) {
        rows = 0;
        for await (const b of this.rowsOf(st, part, false)) rows += b.length;
        this.rowsRead.set(k, rows);
      }
      n += rows;
    }
    return n;
  }
}

const BAD_DOC = Symbol('not JSON');

/** `name`, or when taken (ignoring case) `name_<8 hex of sha1(salt)>`; the name is then taken. */
function claim(taken: Set<string>, name: string, salt: string): string {
  let out = name;
  for (let n = 8; taken.has(out.toLowerCase()); n += 4) {
    out = `${name}_${createHash('sha1').update(salt).digest('hex').slice(0, n)}`;
  }
  taken.add(out.toLowerCase());
  return out;
}

/** A document column's value: JSON text (CSV) parsed, or a JSONL value as it is. */
function parseDoc(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof InvalidText) return BAD_DOC;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return BAD_DOC;
  }
}

function manifestEntry(st: Stream, part: SourcePart) {
  const rel = st.folder ? part.path.slice(st.folder.length + 1) : part.path;
  const f = st.manifest!.files.find((x) => x.path === rel);
  if (!f) throw new TerminalError(`${part.path} is not listed in ${st.folder}/${MANIFEST}`);
  return f;
}
