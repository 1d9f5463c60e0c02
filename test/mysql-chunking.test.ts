/**
 * MySQL chunk boundaries (MysqlIntrospector.chunkBoundaries: for one key column, walks of
 * `LIMIT 1 OFFSET chunkRows-1` along the key; for a composite key, every chunkRows-th key streamed).
 * Whatever the row count, the ranges must be in key order, hold every row exactly once, and hold
 * at most chunkRows rows each, with ceil(rows / chunkRows) chunks (no empty last one). Real MariaDB; the text key's collation is case-insensitive and
 * accent-insensitive, so only the server can order it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnector } from '../src/connectors/registry.js';
import type { Connector, KeyRange } from '../src/core/connector.js';
import { tempDir } from './helpers/env.js';
import { freshMyDatabase, myUrl, withMy } from './helpers/mysql.js';

const MY = 'ferry_my_chunking';
const CHUNK = 10;
const SIZES = [0, 1, 9, 10, 11, 19, 20, 21, 29, 30, 31, 57, 100];
let source: Connector;

beforeAll(async () => {
  await freshMyDatabase(MY);
  await withMy(MY, async (c) => {
    for (const n of SIZES) {
      await c.query(`CREATE TABLE i${n} (id int PRIMARY KEY, v int)`);
      await c.query(`CREATE TABLE t${n} (k varchar(20) COLLATE utf8mb4_general_ci PRIMARY KEY, v int)`);
      // A composite key: boundaries come from streaming the keys, not from walks.
      await c.query(`CREATE TABLE c${n} (a int, b varchar(20) COLLATE utf8mb4_general_ci, v int, PRIMARY KEY (a, b))`);
      for (let i = 0; i < n; i++) {
        // Ids with gaps and negatives; text keys whose byte order is not the collation's order.
        await c.query(`INSERT INTO i${n} VALUES (?, ?)`, [i * 7 - 300, i]);
        const word = ['Éa', 'b', 'A', 'ä', 'Z', 'é', 'c'][i % 7];
        await c.query(`INSERT INTO t${n} VALUES (?, ?)`, [`${word}${String(i).padStart(3, '0')}`, i]);
        await c.query(`INSERT INTO c${n} VALUES (?, ?, ?)`, [i % 3, `${word}${i}`, i]);
      }
      await c.query(`ANALYZE TABLE i${n}, t${n}, c${n}`);
    }
  });
  source = await openConnector(myUrl(MY), 'source', { maxConnections: 4, baseDir: tempDir() });
}, 120_000);

afterAll(async () => {
  await source?.close();
  await withMy(null, (c) => c.query(`DROP DATABASE IF EXISTS ${MY}`));
});

describe('MySQL chunk boundaries by walks along the key', () => {
  const KEYS: Record<string, string> = { i: 'an int key', t: 'a case-insensitive text key', c: 'a composite key' };
  for (const prefix of Object.keys(KEYS)) {
    it(`${KEYS[prefix]}: every size from 0 to ${SIZES.at(-1)} rows`, async () => {
      for (const n of SIZES) {
        const ref = { schema: MY, name: `${prefix}${n}` };
        const info = await source.introspector.describe(ref);
        const key = info.columns.filter((c) => info.primaryKey.includes(c.name));
        const bounds = await source.introspector.chunkBoundaries(ref, key, CHUNK);
        const ranges: KeyRange[] = [];
        let lo: unknown[] | null = null;
        for (const b of [...bounds, null]) {
          ranges.push({ lo, hi: b });
          lo = b;
        }
        const counts: number[] = [];
        for (const r of ranges) counts.push(await source.introspector.count(ref, key, r));
        const where = `${ref.name}: bounds ${JSON.stringify(bounds)}, counts ${counts}`;
        // Every row once: the ranges add up to the table (an inverted range would count 0, a
        // repeated row twice).
        expect(
          counts.reduce((a, b) => a + b, 0),
          where,
        ).toBe(n);
        expect(ranges.length, where).toBe(Math.max(1, Math.ceil(n / CHUNK)));
        for (const c of counts) expect(c, where).toBeLessThanOrEqual(CHUNK);
        if (n > 0) for (const c of counts) expect(c, where).toBeGreaterThan(0);
      }
    }, 60_000);
  }
});
