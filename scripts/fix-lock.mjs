// Adds lock entries for the platform packages of Biome (lint) and DuckDB (a test reader) that the
// registry this project is built from does not serve (only linux-x64 is served). Without them
// `npm ci` rejects the lock as out of sync; with them npm skips the packages on this platform.
// Run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

/** Platform of a package named `<prefix>-<os>-<cpu>[-musl]`. */
function platformOf(suffix) {
  const m = /^(android|darwin|linux|win32)-(arm64|x64)(-musl)?$/.exec(suffix);
  if (!m) return null;
  const p = { os: [m[1]], cpu: [m[2]] };
  if (m[1] === 'linux') p.libc = [m[3] ? 'musl' : 'glibc'];
  return p;
}

const PARENTS = [
  { parent: '@biomejs/biome', prefix: '@biomejs/cli-', license: 'MIT OR Apache-2.0' },
  { parent: '@duckdb/node-bindings', prefix: '@duckdb/node-bindings-', license: 'MIT' },
];

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
let added = 0;
for (const { parent, prefix, license } of PARENTS) {
  const entry = lock.packages[`node_modules/${parent}`];
  for (const [name, version] of Object.entries(entry?.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const platform = name.startsWith(prefix) ? platformOf(name.slice(prefix.length)) : null;
    if (lock.packages[key] || !platform) continue;
    lock.packages[key] = { version, ...platform, dev: true, license, optional: true };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lock: added ${added} platform entr${added === 1 ? 'y' : 'ies'}`);
