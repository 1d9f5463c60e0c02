/**
 * The files connector: a lake of CSV, JSONL or Parquet files in a local folder (`file:./lake`) or
 * an S3 bucket prefix (`s3://bucket/raw`), as a target. Its introspector and reader work from the
 * manifests it writes (verify reads a stream back through them).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  Capabilities,
  Connector,
  ConnectorOptions,
  Introspector,
  SourcePart,
  TableInfo,
} from '../../core/connector.js';
import { ConfigError } from '../../core/errors.js';
import type { TableRef } from '../../core/identifiers.js';
import { isDataFile, MANIFEST, streamFolder } from './files-manifest.js';
import { FilesReader, loadManifest, manifestTable } from './files-reader.js';
import type { S3Location } from './files-s3.js';
import { FilesSource } from './files-source.js';
import { LocalStorage, type Storage } from './files-storage.js';
import { FilesWriter } from './files-writer.js';

const CAPABILITIES: Capabilities = {
  bulkLoad: 'files',
  // Chunks encode in this process (CPU) and upload in parallel.
  maxReaders: 8,
  maxWriters: 8,
  transactionalDdl: false,
  defaultSchema: null,
  unquotedCase: 'preserve',
  passThrough: [],
  values: {
    nulInText: true,
    nonFiniteFloats: true,
    // A zero date has no Parquet DATE, and a lake's readers would not take it as text either.
    invalidDates: false,
    // Text is written as UTF-8; bytes that are not go through the invalid_utf8 policy.
    invalidUtf8: false,
    extremeDates: true,
  },
  maxIdentifierBytes: 1024,
  caseInsensitiveColumns: false,
  stagingTable: false,
  keyWhileLoading: false,
  keyOrderReads: false,
  rangeReads: false,
  namesFollowSource: true,
};

/** `file:./lake`, `file:lake`, `file:/data/lake`, `file:///data/lake` -> an absolute folder. */
export function localRoot(url: string, baseDir: string): string {
  const rest = url.replace(/^file:/i, '');
  if (rest.startsWith('//')) return fileURLToPath(url);
  if (rest === '') throw new ConfigError('file: needs a folder, e.g. file:./lake');
  return path.resolve(baseDir, decodeURIComponent(rest.split('?')[0]));
}

/** `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1&path_style=true` */
export function s3Location(url: string): S3Location {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`not an S3 URL: ${url}`, { hint: 'write s3://bucket/prefix' });
  }
  if (!u.hostname) throw new ConfigError(`${url}: no bucket`, { hint: 'write s3://bucket/prefix' });
  if (u.username || u.password) {
    throw new ConfigError('s3: credentials do not go in the URL', {
      hint: 'use the AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role',
    });
  }
  const known = new Set(['endpoint', 'region', 'path_style']);
  for (const k of u.searchParams.keys()) {
    if (!known.has(k))
      throw new ConfigError(`s3 URL: unknown option ${k}`, { hint: 'options: endpoint, region, path_style' });
  }
  const ps = u.searchParams.get('path_style');
  return {
    bucket: u.hostname,
    prefix: decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, ''),
    endpoint: u.searchParams.get('endpoint') ?? undefined,
    region: u.searchParams.get('region') ?? undefined,
    pathStyle: ps === null ? undefined : ps === 'true' || ps === '1',
  };
}

class FilesIntrospector implements Introspector {
  constructor(private readonly storage: Storage) {}

  ping(): Promise<void> {
    return this.storage.ping();
  }

  async listTables(): Promise<TableRef[]> {
    const out: TableRef[] = [];
    for await (const o of this.storage.list('')) {
      if (o.key.endsWith(`/${MANIFEST}`) && !o.key.startsWith('_ferry/')) {
        out.push({ schema: null, name: o.key.slice(0, -(MANIFEST.length + 1)) });
      }
    }
    return out;
  }

  async describe(ref: TableRef): Promise<TableInfo> {
    return manifestTable(ref, await loadManifest(this.storage, ref));
  }

  async chunkBoundaries(): Promise<unknown[][]> {
    return [];
  }

  async count(ref: TableRef): Promise<number> {
    return (await loadManifest(this.storage, ref)).rows;
  }

  /** Files the manifest lists that are missing, and data files in the folder it does not list. */
  async audit(ref: TableRef): Promise<string[]> {
    const m = await loadManifest(this.storage, ref);
    const folder = streamFolder(ref);
    const listed = new Map(m.files.map((f) => [f.path, f]));
    const seen = new Set<string>();
    const problems: string[] = [];
    for await (const o of this.storage.list(`${folder}/`)) {
      const rel = o.key.slice(folder.length + 1);
      const f = listed.get(rel);
      if (f) {
        seen.add(rel);
        if (f.bytes !== o.size) problems.push(`${rel}: ${o.size} bytes, the manifest says ${f.bytes}`);
      } else if (o.temp) {
        problems.push(`${rel}: an unfinished temporary file (a killed writer); the next run removes it`);
      } else if (isDataFile(rel, { partitionBy: m.partition_by })) {
        problems.push(`${rel}: a data file the manifest does not list (a reader of the folder would see its rows)`);
      }
    }
    for (const rel of listed.keys()) if (!seen.has(rel)) problems.push(`${rel}: listed in the manifest, missing`);
    return problems;
  }
}

/**
 * As a source: files the job's streams name. Values of CSV and JSONL arrive as text for the target
 * to cast; the policies for NUL bytes and invalid UTF-8 apply to them (a text file can hold both).
 */
const SOURCE_CAPABILITIES: Capabilities = {
  ...CAPABILITIES,
  // A lake folder `public.orders` (written by ferry from PostgreSQL) lands in the target's default schema.
  defaultSchema: 'public',
  values: { ...CAPABILITIES.values, invalidUtf8: true, extremeDates: true },
};

class FilesSourceIntrospector implements Introspector {
  constructor(
    private readonly storage: Storage,
    private readonly files: FilesSource,
  ) {}

  ping(): Promise<void> {
    return this.storage.ping();
  }

  async listTables(): Promise<TableRef[]> {
    return this.files.listTables();
  }

  describe(ref: TableRef): Promise<TableInfo> {
    return this.files.describe(ref);
  }

  async chunkBoundaries(): Promise<unknown[][]> {
    return [];
  }

  count(ref: TableRef): Promise<number> {
    return this.files.count(ref);
  }

  parts(ref: TableRef): Promise<SourcePart[]> {
    return this.files.parts(ref);
  }
}

export async function createFilesConnector(url: string, options: ConnectorOptions, role: string): Promise<Connector> {
  let storage: Storage;
  if (/^s3:/i.test(url)) {
    const { S3Storage } = await import('./files-s3.js');
    storage = new S3Storage(s3Location(url));
  } else {
    storage = new LocalStorage(localRoot(url, options.baseDir));
  }
  if (role === 'source') {
    const files = new FilesSource(storage);
    return {
      dialect: 'files',
      castRules: [],
      capabilities: SOURCE_CAPABILITIES,
      introspector: new FilesSourceIntrospector(storage, files),
      reader: { read: (req, signal) => files.read(req, signal) },
      writer: new FilesWriter(storage),
      declareStreams: (streams) => files.declare(streams),
      close: () => storage.close(),
    };
  }
  return {
    dialect: 'files',
    castRules: [],
    capabilities: CAPABILITIES,
    introspector: new FilesIntrospector(storage),
    reader: new FilesReader(storage),
    writer: new FilesWriter(storage),
    close: () => storage.close(),
  };
}
