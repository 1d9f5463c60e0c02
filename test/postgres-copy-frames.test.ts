/**
 * The `postgres-copydata` relay (src/connectors/postgres/postgres-copy-frames.ts) on a real
 * server: CopyData messages read off one connection and written unchanged to another must land
 * every row exactly, however the socket cuts the bytes. The source connection's socket hands
 * its data out in pieces of 1 byte to 70 KB, so message headers and bodies are cut everywhere
 * (the relay's carry paths), and every piece the relay hands on must hold whole messages only.
 */
import net from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyOutFrames, copyInFrames } from '../src/connectors/postgres/postgres-copy-frames.js';
import { freshPgDatabase } from './helpers/env.js';

const DB = 'ferry_test_copy_frames';
const ROWS = 20_000;
let url: string;

/** A socket whose read() returns what arrived in pieces of pseudo-random size. */
class PiecewiseSocket extends net.Socket {
  private seed = 12345;
  private nextSize(): number {
    this.seed = (this.seed * 1103515245 + 12345) & 0x7fffffff;
    const r = this.seed % 100;
    if (r < 40) return 1 + (this.seed % 7); // cuts headers (5 bytes) and short rows
    if (r < 80) return 5 + (this.seed % 200);
    return 1000 + (this.seed % 70_000); // spans several messages; cuts the 200 KB values
  }
  override read(n?: number): Buffer | null {
    if (n !== undefined || this.readableLength === 0) return super.read(n);
    return super.read(Math.min(this.readableLength, this.nextSize()));
  }
}

async function client(piecewise = false): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, ...(piecewise ? { stream: () => new PiecewiseSocket() } : {}) });
  await c.connect();
  return c;
}

/** Checks that a piece holds whole CopyData messages and nothing else. */
function wholeMessages(seen: { pieces: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let p = 0;
      while (p < chunk.length) {
        if (chunk[p] !== 0x64 || p + 5 > chunk.length)
          return cb(new Error(`piece ${seen.pieces}: not a message at ${p}`));
        p += 1 + chunk.readUInt32BE(p + 1);
      }
      if (p !== chunk.length) return cb(new Error(`piece ${seen.pieces}: a message cut at its end`));
      seen.pieces++;
      cb(null, chunk);
    },
  });
}

const digest = (table: string, cols = 'id, t, b, n') =>
  `SELECT count(*)::int AS n, md5(string_agg(md5(ROW(${cols})::text), '' ORDER BY id)) AS h FROM ${table}`;

beforeAll(async () => {
  url = await freshPgDatabase(DB);
  const c = await client();
  try {
    await c.query(`CREATE TABLE src (id int PRIMARY KEY, t text, b bytea, n numeric)`);
    // Short rows, NULLs, empty values, multi-byte text and, every 997th row, a 200 KB value (a
    // message many socket reads long).
    await c.query(
      `INSERT INTO src
       SELECT i,
              CASE WHEN i % 7 = 0 THEN NULL WHEN i % 11 = 0 THEN '' ELSE 'ränge ' || i || repeat('x', i % 50) END,
              CASE WHEN i % 997 = 0 THEN decode(repeat(md5(i::text), 6250), 'hex')
                   WHEN i % 5 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END,
              CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1.25 END
       FROM generate_series(1, ${ROWS}) i`,
    );
    await c.query(`CREATE TABLE dst (id int, t text, b bytea, n numeric)`);
    await c.query(`CREATE FUNCTION noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
      BEGIN IF i % 500 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`);
  } finally {
    await c.end();
  }
});

afterAll(async () => {
  const c = new pg.Client({ connectionString: url.replace(/\/[^/]+$/, '/postgres') });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => {});
  await c.end();
});

describe('postgres-copydata relay', () => {
  async function relay(select: string): Promise<{ out: number; in: number; pieces: number }> {
    const [source, target] = [await client(true), await client()];
    try {
      await target.query('TRUNCATE dst');
      const out = source.query(new CopyOutFrames(`COPY (${select}) TO STDOUT (FORMAT binary)`));
      const into = target.query(copyInFrames('COPY dst FROM STDIN (FORMAT binary)'));
      const seen = { pieces: 0 };
      await pipeline(out, wholeMessages(seen), into);
      // Both connections are back in a clean state for the next query.
      expect((await source.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      expect((await target.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      return { out: out.rowCount, in: into.rowCount, pieces: seen.pieces };
    } finally {
      await source.end();
      await target.end();
    }
  }

  it('lands every row exactly when the socket cuts headers and bodies anywhere', async () => {
    const r = await relay('SELECT id, t, b, n FROM src');
    expect(r).toMatchObject({ out: ROWS, in: ROWS });
    expect(r.pieces).toBeGreaterThan(100);
    const c = await client();
    try {
      const [want, got] = [(await c.query(digest('src'))).rows[0], (await c.query(digest('dst'))).rows[0]];
      expect(got).toEqual(want);
      expect(got.n).toBe(ROWS);
    } finally {
      await c.end();
    }
  });

  it('skips the notices a server sends between rows', async () => {
    const r = await relay('SELECT noisy(id) AS id, t, b, n FROM src');
    expect(r).toMatchObject({ out: ROWS, in: ROWS });
    const c = await client();
    try {
      expect((await c.query(digest('dst'))).rows[0]).toEqual((await c.query(digest('src'))).rows[0]);
    } finally {
      await c.end();
    }
  });

  it("reports the server's error mid-COPY and leaves the connection usable", async () => {
    const source = await client(true);
    try {
      const out = source.query(new CopyOutFrames('COPY (SELECT id, 1 / (id - 15000) FROM src ORDER BY id) TO STDOUT'));
      let bytes = 0;
      const done = (async () => {
        for await (const chunk of out as AsyncIterable<Buffer>) bytes += chunk.length;
      })();
      await expect(done).rejects.toThrow(/division by zero/);
      expect(bytes).toBeGreaterThan(0);
      expect((await source.query('SELECT 2 AS two')).rows[0].two).toBe(2);
    } finally {
      await source.end();
    }
  });

  it('a target aborted half way rolls its COPY back and keeps its connection', async () => {
    const [source, target] = [await client(true), await client()];
    try {
      await target.query('TRUNCATE dst');
      const out = source.query(new CopyOutFrames('COPY (SELECT id, t, b, n FROM src) TO STDOUT (FORMAT binary)'));
      const into = target.query(copyInFrames('COPY dst FROM STDIN (FORMAT binary)'));
      let pieces = 0;
      const failing = new Transform({
        transform(chunk, _enc, cb) {
          // Abort once some messages have gone to the target, not at a row boundary of the source.
          if (++pieces === 40) return cb(new Error('reader gave up'));
          cb(null, chunk);
        },
      });
      await expect(pipeline(out, failing, into)).rejects.toThrow(/reader gave up/);
      expect((await target.query('SELECT count(*)::int AS n FROM dst')).rows[0].n).toBe(0);
    } finally {
      await source.end().catch(() => {});
      await target.end();
    }
  });
});
