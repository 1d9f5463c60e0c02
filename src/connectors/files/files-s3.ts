/**
 * S3 (and S3-compatible stores) through the AWS SDK v3. Credentials and region come from the
 * standard AWS chain (env, profile, SSO, instance role); `AWS_ENDPOINT_URL` or `?endpoint=` points
 * at another store, where path-style addressing is the default (`?path_style=false` to turn off).
 *
 * A data file is written to a local temporary file first and then uploaded with
 * `@aws-sdk/lib-storage` (multipart past 8 MiB, two parts in flight). That keeps memory flat
 * however many partitions a chunk has open (each open S3 stream would hold its parts in memory),
 * lets the size and checksum be known before the upload, and makes a failed upload a retry of
 * the upload alone. The encoder still waits for the disk (backpressure), and the chunk's marker
 * waits for the upload.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ConnectionError, TerminalError, TransientError } from '../../core/errors.js';
import type { ObjectWriter, Storage, StoredObject } from './files-storage.js';

export interface S3Location {
  bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket root). */
  prefix: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
}

const PART_SIZE = 8 * 1024 * 1024;

/** Maps an SDK error to ferry's kinds: throttling and 5xx are transient, auth and missing bucket are not. */
function s3Error(err: unknown, what: string): Error {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e.$metadata?.httpStatusCode ?? 0;
  const name = e.name ?? e.Code ?? e.code ?? 'Error';
  const msg = `${what}: ${name}${status ? ` (HTTP ${status})` : ''}${err instanceof Error && err.message && err.message !== name ? `: ${err.message}` : ''}`;
  if (
    status >= 500 ||
    status === 429 ||
    /SlowDown|Throttl|RequestTimeout|ECONNRESET|EPIPE|ETIMEDOUT|socket hang up/i.test(`${name} ${msg}`)
  ) {
    return new TransientError(msg, {}, { cause: err });
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(`${e.code} ${msg}`)) {
    return new ConnectionError(msg, { hint: 'check the endpoint (AWS_ENDPOINT_URL or ?endpoint=) and the network' });
  }
  if (status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|CredentialsProvider/i.test(name)) {
    return new ConnectionError(msg, {
      hint: 'check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE) and the bucket policy',
    });
  }
  return new TerminalError(msg, {}, { cause: err });
}

export class S3Storage implements Storage {
  readonly location: string;
  private readonly client: S3Client;

  constructor(private readonly loc: S3Location) {
    this.location = `s3://${loc.bucket}/${loc.prefix}`;
    const endpoint = loc.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const config: S3ClientConfig = {
      forcePathStyle: loc.pathStyle ?? endpoint !== undefined,
      // An S3-compatible store often has no region; the SDK insists on one.
      region: loc.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      maxAttempts: 3,
    };
    if (endpoint) config.endpoint = endpoint;
    this.client = new S3Client(config);
  }

  private key(k: string): string {
    return this.loc.prefix ? `${this.loc.prefix}/${k}` : k;
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.loc.bucket }));
    } catch (err) {
      const e = s3Error(err, `bucket ${this.loc.bucket}`);
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) {
        throw new ConnectionError(`bucket ${this.loc.bucket} does not exist`, {
          hint: 'create the bucket, or check the name and the endpoint',
        });
      }
      throw e instanceof TerminalError ? new ConnectionError(e.message) : e;
    }
  }

  async putBytes(key: string, body: Buffer): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key), Body: body }));
    } catch (err) {
      throw s3Error(err, `put ${key}`);
    }
  }

  async getBytes(key: string): Promise<Buffer | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return null;
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw s3Error(err, `get ${key}`);
    }
  }

  async createWriter(key: string): Promise<ObjectWriter> {
    const tmp = path.join(tmpdir(), `ferry-s3-${process.pid}-${randomBytes(6).toString('hex')}`);
    const stream = createWriteStream(tmp);
    let done = false;
    return {
      stream,
      commit: async () => {
        if (!stream.writableEnded) stream.end();
        await finished(stream);
        try {
          const upload = new Upload({
            client: this.client,
            params: { Bucket: this.loc.bucket, Key: this.key(key), Body: createReadStream(tmp) },
            partSize: PART_SIZE,
            queueSize: 2,
            leavePartsOnError: false,
          });
          await upload.done();
          done = true;
        } catch (err) {
          throw s3Error(err, `upload ${key}`);
        } finally {
          await fsp.rm(tmp, { force: true });
        }
      },
      abort: async () => {
        if (done) return;
        stream.destroy();
        await fsp.rm(tmp, { force: true });
      },
    };
  }

  async read(key: string, etag?: string): Promise<Readable> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key), ...(etag ? { IfMatch: etag } : {}) }),
      );
      return r.Body as Readable;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
        throw new TerminalError(`${key} changed after the plan listed it (its ETag is no longer ${etag})`, {
          hint: 'rerun: the run is resumed, and a changed file is loaded again',
        });
      }
      throw s3Error(err, `get ${key}`);
    }
  }

  async stat(key: string): Promise<{ size: number; etag: string }> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
      return { size: r.ContentLength ?? 0, etag: r.ETag ?? '' };
    } catch (err) {
      throw s3Error(err, `head ${key}`);
    }
  }

  async size(key: string): Promise<number> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
      return r.ContentLength ?? 0;
    } catch (err) {
      throw s3Error(err, `head ${key}`);
    }
  }

  async readRange(key: string, start: number, end: number): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key), Range: `bytes=${start}-${end - 1}` }),
      );
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      throw s3Error(err, `get ${key} bytes ${start}-${end - 1}`);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const full = this.key(prefix);
    const strip = this.loc.prefix ? this.loc.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      let r: import('@aws-sdk/client-s3').ListObjectsV2CommandOutput;
      try {
        r = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: full, ContinuationToken: token }),
        );
      } catch (err) {
        throw s3Error(err, `list ${prefix}`);
      }
      for (const o of r.Contents ?? []) yield { key: o.Key!.slice(strip), size: o.Size ?? 0, etag: o.ETag ?? '' };
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        const r = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.loc.bucket,
            Delete: { Objects: batch.map((k) => ({ Key: this.key(k) })), Quiet: true },
          }),
        );
        if (r.Errors && r.Errors.length > 0) {
          throw new TransientError(`delete: ${r.Errors[0].Key}: ${r.Errors[0].Code} ${r.Errors[0].Message ?? ''}`);
        }
      } catch (err) {
        throw err instanceof TransientError ? err : s3Error(err, 'delete');
      }
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
