/**
 * Child-process entry for test/helpers/s3.ts: runs s3rver (a fake S3 on the local file system) on
 * 127.0.0.1 and prints `{"port": N}` on stdout once it listens. It runs in its own process so a test
 * that blocks its event loop, or gets killed, never stalls the server the CLI under test talks to.
 *
 * Usage: node --openssl-legacy-provider s3rver-main.mjs '{"directory": "...", "buckets": ["a"]}'
 * (the legacy provider is for s3rver's ListObjectsV2 continuation tokens, which use DES).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

const { directory, buckets = [], port = 0 } = JSON.parse(process.argv[2] ?? '{}');
if (!directory) throw new Error('s3rver-main: "directory" is required');

const server = new S3rver({
  address: '127.0.0.1',
  port,
  silent: true,
  directory,
  // Path-style only: the endpoint is an IP address, so virtual-host names could never resolve.
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});

const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);

// The parent holds our stdin open; when it goes away (test finished, worker killed), so do we,
// instead of leaving an orphan server behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
