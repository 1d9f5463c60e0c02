/**
 * A throwaway S3 for tests: s3rver (the npm fake S3, files on disk) in a child process on
 * 127.0.0.1, a fresh temp folder per server. What the tests read back goes through the AWS CLI,
 * not our own SDK code, so a bug shared by ferry and its tests cannot hide itself.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const LAUNCHER = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-main.mjs');

/** The AWS CLI to read back with; found on PATH unless FERRY_TEST_AWS_CLI names one. */
// Debian's awscli package (what .ci/run installs) first: a `aws` earlier on PATH may be a shim
// (pyenv) with no CLI behind it.
const AWS_CLI = process.env.FERRY_TEST_AWS_CLI ?? (existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws');

/** s3rver's built-in account; it rejects any other access key. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';
const REGION = 'us-east-1';

export interface S3Object {
  key: string;
  size: number;
  /**
   * Without the surrounding quotes: the MD5 hex of the bytes. (Real S3 gives `<hex>-<parts>` for
   * multipart objects; s3rver gives the whole object's MD5 for those too.)
   */
  etag: string;
}

export interface S3Server {
  port: number;
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /**
   * Variables for a child process (ferry, the AWS CLI) to reach this server: spread them over
   * process.env. Besides endpoint, keys and region, they point the config and credentials files
   * at empty temp files and turn off the EC2 metadata lookup, so ~/.aws never leaks in, and ask
   * for checksums only where required (s3rver stores aws-chunked bodies verbatim). An AWS_PROFILE
   * left in process.env would still make the SDK skip these keys: don't pass the shell's through.
   */
  env: Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** A new SDK client for this server (path-style); stop() destroys every one handed out. */
  client(): S3Client;
  /** Every object under the prefix, in key order, listed by the AWS CLI (which follows continuation tokens). */
  listKeys(bucket: string, prefix?: string): Promise<S3Object[]>;
  /** An object's bytes, downloaded by the AWS CLI. */
  getBytes(bucket: string, key: string): Promise<Buffer>;
  /** Runs `aws <args>` against this server; returns stdout. */
  aws(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Variables the AWS CLI / SDK would otherwise pick up from the developer's shell. */
function envWithoutAws(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return env;
}

function execAws(args: string[], env: Record<string, string>, endpoint: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      AWS_CLI,
      ['--endpoint-url', endpoint, ...args],
      { env: { ...envWithoutAws(), ...env }, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`aws ${args.join(' ')} failed: ${err.message}\n${stderr.toString()}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** Waits for the launcher's `{"port": N}` line; fails with its stderr if it dies first. */
function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onErr = (d: Buffer) => {
      err += d;
    };
    const onOut = (d: Buffer) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      let port = Number.NaN;
      try {
        port = Number(JSON.parse(out.slice(0, nl)).port);
      } catch {
        // reported below
      }
      if (Number.isInteger(port) && port > 0) done(() => resolve(port));
      else fail(new Error(`s3rver printed ${JSON.stringify(out)}`));
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`s3rver exited (${code ?? signal}) before listening\n${err}`));
    const timer = setTimeout(() => fail(new Error(`s3rver did not start within ${timeoutMs} ms\n${err}`)), timeoutMs);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.stderr?.off('data', onErr);
      child.off('error', fail);
      child.off('exit', onExit);
      settle();
    };
    function fail(e: Error) {
      done(() => reject(e));
      child.kill('SIGKILL');
    }
    child.stderr?.on('data', onErr);
    child.stdout?.on('data', onOut);
    child.on('error', fail);
    child.on('exit', onExit);
  });
}

export async function startS3(options: { buckets?: string[] } = {}): Promise<S3Server> {
  const root = mkdtempSync(path.join(tmpdir(), 'ferry-s3-'));
  const store = path.join(root, 'store');
  const downloads = path.join(root, 'downloads');
  mkdirSync(store);
  mkdirSync(downloads);
  // The IP endpoint already implies path-style in botocore; saying so keeps it true if a test ever
  // uses a host name.
  const configFile = path.join(root, 'aws-config');
  writeFileSync(configFile, `[default]\nregion = ${REGION}\ns3 =\n  addressing_style = path\n`);
  const credentialsFile = path.join(root, 'aws-credentials');
  writeFileSync(credentialsFile, '');

  // Node 20's OpenSSL 3 has no DES without the legacy provider, and s3rver encrypts its
  // ListObjectsV2 continuation tokens with DES: without the flag, listing past 1,000 keys fails.
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', LAUNCHER, JSON.stringify({ directory: store, buckets: options.buckets ?? [] })],
    { stdio: ['pipe', 'pipe', 'pipe'], env: envWithoutAws() },
  );
  let port: number;
  try {
    port = await waitForPort(child, 15_000);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  // Keep draining its output so a chatty server can never block on a full pipe.
  child.stdout.resume();
  child.stderr.resume();

  const endpoint = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    // s3rver does not understand aws-chunked uploads: with the SDK's default (WHEN_SUPPORTED), a
    // streamed PutObject is stored with the chunk framing and trailing checksum in the object's
    // bytes. Checksums only where the API requires them keeps plain bodies, as real S3 would store.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  };
  const clients: S3Client[] = [];
  let downloadSeq = 0;
  const aws = async (args: string[]) => (await execAws(args, env, endpoint)).toString('utf8');

  const server: S3Server = {
    port,
    endpoint,
    env,
    client() {
      const c = new S3Client({
        endpoint,
        region: REGION,
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED', // see AWS_REQUEST_CHECKSUM_CALCULATION above
      });
      clients.push(c);
      return c;
    },
    async createBucket(name) {
      const c = server.client();
      await c.send(new CreateBucketCommand({ Bucket: name }));
    },
    aws,
    async listKeys(bucket, prefix) {
      const args = ['s3api', 'list-objects-v2', '--bucket', bucket, '--output', 'json'];
      if (prefix) args.push('--prefix', prefix);
      const out = await aws(args);
      // An empty listing has no Contents at all (and the CLI may print nothing).
      const parsed = out.trim() ? JSON.parse(out) : {};
      const contents: { Key: string; Size: number; ETag: string }[] = parsed.Contents ?? [];
      return contents.map((o) => ({ key: o.Key, size: o.Size, etag: o.ETag.replace(/^"|"$/g, '') }));
    },
    async getBytes(bucket, key) {
      // get-object into a file rather than `s3 cp ... -`: one plain GET, no ranged parallel parts.
      const file = path.join(downloads, `obj-${++downloadSeq}`);
      try {
        await aws(['s3api', 'get-object', '--bucket', bucket, '--key', key, file, '--output', 'json']);
        return readFileSync(file);
      } finally {
        rmSync(file, { force: true });
      }
    },
    async stop() {
      for (const c of clients.splice(0)) c.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  return server;
}
