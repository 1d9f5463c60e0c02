/**
 * The S3 and DuckDB test helpers themselves: s3rver in a child process, read back through the AWS
 * CLI (listing past one page of 1,000 keys, exact bytes, a multipart object), and DuckDB reading
 * local CSV, JSON and hive-partitioned Parquet with exact values.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDuck, duckQuery } from '../helpers/duckdb.js';
import { ROOT } from '../helpers/env.js';
import { type S3Server, startS3 } from '../helpers/s3.js';

const MiB = 1024 * 1024;

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('S3 harness (s3rver + AWS CLI)', () => {
  let s3: S3Server;

  beforeAll(async () => {
    s3 = await startS3({ buckets: ['preset'] });
    await s3.createBucket('harness');
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('serves on 127.0.0.1 with env for child processes', async () => {
    expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`);
    expect(s3.env).toMatchObject({
      AWS_ENDPOINT_URL: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    });
    // Buckets made at start-up and through the API are both there, and empty.
    const buckets = JSON.parse(await s3.aws(['s3api', 'list-buckets', '--output', 'json'])).Buckets.map(
      (b: { Name: string }) => b.Name,
    );
    expect(buckets.sort()).toEqual(['harness', 'preset']);
    expect(await s3.listKeys('preset')).toEqual([]);
  });

  it('lists all 1,205 keys, past the first page of 1,000', async () => {
    const client = s3.client();
    const keys = Array.from({ length: 1205 }, (_, i) => `many/part-${String(i).padStart(5, '0')}.txt`);
    await inParallel(keys, 32, async (key) => {
      await client.send(new PutObjectCommand({ Bucket: 'harness', Key: key, Body: `body of ${key}` }));
    });

    const listed = await s3.listKeys('harness', 'many/');
    expect(listed).toHaveLength(1205);
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(new Set(listed.map((o) => o.key)).size).toBe(1205);
    const first = listed[0];
    expect(first.size).toBe(Buffer.byteLength(`body of ${first.key}`));
    expect(first.etag).toBe(createHash('md5').update(`body of ${first.key}`).digest('hex'));
    expect(await s3.listKeys('harness', 'nothing-here/')).toEqual([]);
  });

  it('downloads exact bytes (all 256 byte values, a key with spaces and non-ASCII)', async () => {
    const bytes = Buffer.alloc(1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) % 256;
    expect(new Set(bytes).size).toBe(256);
    const key = 'bytes/all values ü+%.bin';
    await s3.client().send(new PutObjectCommand({ Bucket: 'harness', Key: key, Body: bytes }));

    expect(await s3.listKeys('harness', 'bytes/')).toEqual([
      { key, size: 1024, etag: createHash('md5').update(bytes).digest('hex') },
    ]);
    const got = await s3.getBytes('harness', key);
    expect(got.equals(bytes)).toBe(true);
  });

  it('stores streamed bodies as sent (no aws-chunked framing), from this process and a child', async () => {
    const body = Readable.from([Buffer.from('hello, '), Buffer.from('streamed world')]);
    const put = new PutObjectCommand({ Bucket: 'harness', Key: 'stream/here.txt', Body: body, ContentLength: 21 });
    await s3.client().send(put);
    expect((await s3.getBytes('harness', 'stream/here.txt')).toString()).toBe('hello, streamed world');

    // A child configured by s3.env alone, as ferry will be: no endpoint or path-style options.
    const script = `
      import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
      import { Readable } from 'node:stream';
      const client = new S3Client({});
      await client.send(new PutObjectCommand({ Bucket: 'harness', Key: 'stream/child.txt',
        Body: Readable.from([Buffer.from('from '), Buffer.from('a child')]), ContentLength: 12 }));
      client.destroy();`;
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, ...s3.env },
    });
    expect((await s3.getBytes('harness', 'stream/child.txt')).toString()).toBe('from a child');
  });

  it('stores a 12 MiB multipart upload (5 MiB parts) intact', async () => {
    const body = Buffer.alloc(12 * MiB);
    // A cheap non-repeating pattern (xorshift) so a misplaced part changes the hash.
    let x = 0x9e3779b9;
    for (let i = 0; i < body.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      body.writeUInt32LE(x >>> 0, i);
    }
    const upload = new Upload({
      client: s3.client(),
      params: { Bucket: 'harness', Key: 'big/blob.bin', Body: body },
      partSize: 5 * MiB,
      queueSize: 3,
    });
    const parts = new Set<number>();
    upload.on('httpUploadProgress', (p) => {
      if (p.part !== undefined) parts.add(p.part);
    });
    await upload.done();
    expect([...parts].sort()).toEqual([1, 2, 3]); // 5 + 5 + 2 MiB

    const [listed] = await s3.listKeys('harness', 'big/');
    expect(listed.key).toBe('big/blob.bin');
    expect(listed.size).toBe(12 * MiB);
    // s3rver's quirk: a multipart object's ETag is the MD5 of the whole object, not real S3's
    // `<md5 of part md5s>-<part count>`.
    expect(listed.etag).toBe(createHash('md5').update(body).digest('hex'));
    const got = await s3.getBytes('harness', 'big/blob.bin');
    expect(got.length).toBe(12 * MiB);
    expect(sha256(got)).toBe(sha256(body));
  });
});

describe('DuckDB helper', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ferry-duck-'));
  });

  afterAll(async () => {
    await closeDuck();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a CSV with exact values', async () => {
    const file = path.join(dir, 'people.csv');
    writeFileSync(
      file,
      'id,name,balance,seen_at\n' +
        '9007199254740993,"Ann, ""the"" first",12.50,2024-01-02 03:04:05.123456\n' +
        '2,Bob,,2024-02-29 00:00:00\n',
    );
    const rows = await duckQuery(
      `SELECT * FROM read_csv('${file}', header = true,
         columns = {'id': 'BIGINT', 'name': 'VARCHAR', 'balance': 'DECIMAL(10,2)', 'seen_at': 'TIMESTAMP'})
       ORDER BY id DESC`,
    );
    expect(rows).toEqual([
      { id: 9007199254740993n, name: 'Ann, "the" first', balance: '12.50', seen_at: '2024-01-02 03:04:05.123456' },
      { id: 2n, name: 'Bob', balance: null, seen_at: '2024-02-29 00:00:00' },
    ]);
  });

  it('reads JSON lines and hive-partitioned Parquet', async () => {
    const json = path.join(dir, 'rows.jsonl');
    writeFileSync(json, '{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n');
    expect(await duckQuery(`SELECT a, b FROM read_json('${json}') ORDER BY a`)).toEqual([
      { a: 1n, b: 'x' },
      { a: 2n, b: null },
    ]);

    const lake = path.join(dir, 'lake');
    await duckQuery(
      `COPY (SELECT i AS id, i % 2 AS part, (i / 4)::DECIMAL(6,2) AS q FROM range(6) t(i))
       TO '${lake}' (FORMAT parquet, PARTITION_BY (part))`,
    );
    const rows = await duckQuery(
      `SELECT id, part, q FROM read_parquet('${lake}/**/*.parquet', hive_partitioning = true) ORDER BY id`,
    );
    expect(rows.map((r) => [r.id, r.part, r.q])).toEqual([
      [0n, 0n, '0.00'],
      [1n, 1n, '0.25'],
      [2n, 0n, '0.50'],
      [3n, 1n, '0.75'],
      [4n, 0n, '1.00'],
      [5n, 1n, '1.25'],
    ]);
  });
});
