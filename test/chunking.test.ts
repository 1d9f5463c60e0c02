/**
 * How a PostgreSQL table is cut into chunks when the job leaves chunk_rows at its default: by
 * chunk_rows when the table is stored in key order, one chunk per parallel slot when it is not
 * (every key range of a scattered key reads most of the table's pages). Real server, tables of
 * 1.2M rows (the default chunk_rows is 500,000), and a real copy that must hold every row once.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobFromObject, plan, run } from '../src/index.js';
import { freshPgDatabase, pgQuery, pgUrl, runCli, tempDir, writeJob } from './helpers/env.js';

const SRC = 'ferry_chunking_src';
const DST = 'ferry_chunking_dst';
const ROWS = 1_200_000;
let work: string;

beforeAll(async () => {
  work = tempDir('ferry-chunking-');
  await freshPgDatabase(SRC);
  await freshPgDatabase(DST);
  // gen_random_uuid() keys land in random heap order; the bigint keys in key order.
  await pgQuery(
    SRC,
    `CREATE TABLE scattered (id uuid PRIMARY KEY, v int);
     INSERT INTO scattered SELECT gen_random_uuid(), g FROM generate_series(1, ${ROWS}) g;
     CREATE TABLE ordered (id bigint PRIMARY KEY, v int);
     INSERT INTO ordered SELECT g, g FROM generate_series(1, ${ROWS}) g;
     ANALYZE scattered; ANALYZE ordered;`,
  );
}, 120_000);

function job(table: string, defaults: Record<string, unknown>, name: string) {
  return jobFromObject(
    {
      source: pgUrl(SRC),
      target: pgUrl(DST),
      state: path.join(work, name),
      defaults: { mode: 'full-refresh', ...defaults },
      streams: { [`public.${table}`]: null },
    },
    '<inline>',
    work,
    process.env,
    name,
  );
}

describe('chunks of a PostgreSQL source', () => {
  it('a scattered key (random uuids) with chunk_rows left at its default: one chunk per parallel slot, said in the plan', async () => {
    const p = await plan(job('scattered', { parallel: 2 }, 'scattered-plan'));
    const sp = p.streams[0];
    expect(sp.chunks).toHaveLength(2);
    expect(sp.chunkNote).toMatch(/one per parallel slot: the table is not stored in key order/);
  });

  it('the same table with chunk_rows set keeps that size', async () => {
    const p = await plan(job('scattered', { parallel: 2, chunk_rows: 300_000 }, 'scattered-set'));
    const sp = p.streams[0];
    // Boundaries come from a block sample: about 4 chunks, never cut per slot.
    expect(sp.chunks.length).toBeGreaterThanOrEqual(3);
    expect(sp.chunks.length).toBeLessThanOrEqual(5);
    expect(sp.chunkNote).toBeUndefined();
  });

  it('a key in heap order keeps chunk_rows (500,000): its ranges read only their own pages', async () => {
    const p = await plan(job('ordered', { parallel: 2 }, 'ordered-plan'));
    const sp = p.streams[0];
    expect(sp.chunks.length).toBeGreaterThanOrEqual(2);
    expect(sp.chunks.length).toBeLessThanOrEqual(4);
    expect(sp.chunkNote).toBeUndefined();
  });

  it('a table in key order is cut in chunks of about chunk_rows each (the block sample takes enough pages)', async () => {
    const dir = path.join(work, 'even');
    mkdirSync(dir, { recursive: true });
    const file = writeJob(dir, {
      source: pgUrl(SRC),
      target: pgUrl(DST),
      defaults: { mode: 'full-refresh', parallel: 2, chunk_rows: 100_000 },
      streams: { 'public.ordered': null },
    });
    const r = await runCli(['run', '--no-progress', file]);
    expect(r.code, r.stderr).toBe(0);
    const runs = path.join(dir, '.ferry', 'job', 'runs');
    const sizes = readFileSync(path.join(runs, readdirSync(runs)[0]), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === 'chunk-done')
      .map((e) => e.rows as number);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(ROWS);
    expect(sizes.length).toBeGreaterThanOrEqual(10);
    expect(sizes.length).toBeLessThanOrEqual(14);
    // A few pages a chunk gave chunks from a thousand rows to several times chunk_rows.
    expect(Math.min(...sizes)).toBeGreaterThan(30_000);
    expect(Math.max(...sizes)).toBeLessThan(250_000);
  }, 120_000);

  it('the scattered table copied in per-slot chunks holds every row exactly once', async () => {
    const ledger = await run(job('scattered', { parallel: 2 }, 'scattered-run'));
    expect(ledger.status).toBe('ok');
    expect(ledger.streams[0].chunks).toBe(2);
    const fp = `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, sum(v)::text AS s,
                       sum(hashtext(id::text || ':' || v))::text AS h FROM scattered`;
    const [src] = await pgQuery(SRC, fp);
    const [dst] = await pgQuery(DST, fp);
    expect(src).toMatchObject({ n: ROWS, d: ROWS });
    expect(dst).toEqual(src);
  }, 120_000);

  it('ferry run --parallel N overrides the job file: the plan is cut for N slots and N chunks run at once', async () => {
    const dir = path.join(work, 'cli');
    mkdirSync(dir, { recursive: true });
    const file = writeJob(dir, {
      source: pgUrl(SRC),
      target: pgUrl(DST),
      defaults: { mode: 'full-refresh', parallel: 4 },
      streams: { 'public.scattered': { target: 'public.scattered_cli' } },
    });
    const bad = await runCli(['run', '--parallel', '0', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--parallel: expected a positive integer, got 0');
    const r = await runCli(['run', '--no-progress', '--parallel', '3', file]);
    expect(r.code, r.stderr).toBe(0);
    const runs = path.join(dir, '.ferry', 'job', 'runs');
    const events = readFileSync(path.join(runs, readdirSync(runs)[0]), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.event === 'run-start').parallel).toBe(3);
    expect(events.filter((e) => e.event === 'chunk-done')).toHaveLength(3);
    const [n] = await pgQuery<{ n: number }>(DST, 'SELECT count(*)::int AS n FROM scattered_cli');
    expect(n.n).toBe(ROWS);
  }, 120_000);
});
