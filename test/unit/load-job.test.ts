// biome-ignore-all lint/suspicious/noTemplateCurlyInString: job files use ${VAR} syntax, written literally here
/**
 * jobFromObject / loadJob: defaults, validation messages, environment interpolation. No servers.
 *
 * Documented defaults (docs/job-file.md, src/config/job-schema.ts):
 *   chunk_rows 500000, parallel = this machine's cores within 2..4, mode full-refresh, max_attempts 5, batch_rows 10000,
 *   state folder `.ferry/<job file name>` beside the job file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobFromObject, loadJob } from '../../src/config/load-job.js';
import { ConfigError } from '../../src/core/errors.js';
import { redact } from '../../src/core/redact.js';

const BASE = { source: 'sqlite:a.db', target: 'sqlite:b.db' };
const NO_ENV: NodeJS.ProcessEnv = {};

function job(doc: Record<string, unknown>, env: NodeJS.ProcessEnv = NO_ENV) {
  return jobFromObject(doc, 'job.yaml', '/base/dir', env);
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('jobFromObject defaults', () => {
  it('applies the documented defaults', () => {
    const j = job({ ...BASE, streams: { orders: null } });
    expect(j.parallel).toBe(Math.min(4, Math.max(2, availableParallelism())));
    expect(j.streams).toEqual([
      {
        selector: 'orders',
        target: undefined,
        mode: 'full-refresh',
        chunkRows: 500_000,
        chunkRowsSet: false,
        batchRows: 10_000,
        maxAttempts: 5,
        columns: undefined,
        primaryKey: undefined,
        maxRejects: 0,
        policies: {
          invalid_dates: 'null',
          nul_bytes: 'strip',
          invalid_utf8: 'reject',
          non_finite_floats: 'reject',
          out_of_range: 'reject',
        },
        casts: [],
        profile: true,
        layout: {
          format: 'parquet',
          compression: 'zstd',
          partitionBy: [],
          fileMaxRows: 1_000_000,
          fileMaxBytes: 256 * 1024 * 1024,
          rowGroupRows: 100_000,
          csv: { delimiter: ',', quote: '"', null: '', header: true },
        },
        fileKeys: [],
        files: {
          glob: null,
          format: null,
          compression: null,
          csv: { delimiter: ',', quote: '"', escape: '"', null: '', header: true },
          encoding: 'utf-8',
          flatten: null,
          columnTypes: {},
          sampleRows: 10_000,
        },
        sourceKeys: [],
      },
    ]);
    expect(j.stateDir).toBe(path.resolve('/base/dir', '.ferry', 'job'));
    expect(j.origin).toBe('job.yaml');
    expect(j.source).toBe('sqlite:a.db');
    expect(j.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('file layout: defaults per format, stream over defaults, partition cuts parsed, keys set are listed', () => {
    const j = job({
      ...BASE,
      defaults: { format: 'csv', csv: { delimiter: ';' }, file_max_rows: 10 },
      streams: {
        orders: { compression: 'zstd', csv: { null: '\\N' }, partition_by: ['day', 'at:month'] },
        items: { format: 'jsonl' },
      },
    });
    const [orders, items] = j.streams;
    expect(orders.layout).toMatchObject({
      format: 'csv',
      compression: 'zstd',
      fileMaxRows: 10,
      csv: { delimiter: ';', quote: '"', null: '\\N', header: true },
      partitionBy: [
        { column: 'day', key: 'day' },
        { column: 'at', granularity: 'month', key: 'at_month' },
      ],
    });
    expect(orders.fileKeys.sort()).toEqual(['compression', 'csv', 'file_max_rows', 'format', 'partition_by']);
    expect(items.layout).toMatchObject({ format: 'jsonl', compression: 'gzip' });
  });

  it('an empty stream mapping ({}) and null mean the same', () => {
    expect(job({ ...BASE, streams: { orders: {} } }).streams).toEqual(
      job({ ...BASE, streams: { orders: null } }).streams,
    );
  });

  it('defaults override the built-in defaults, streams override defaults', () => {
    const j = job({
      ...BASE,
      defaults: { mode: 'append', chunk_rows: 50, batch_rows: 7, max_attempts: 2, parallel: 9 },
      streams: {
        a: null,
        b: { chunk_rows: 3, mode: 'full-refresh', target: 'x', columns: ['id'], primary_key: ['id'] },
      },
    });
    expect(j.parallel).toBe(9);
    expect(j.streams[0]).toMatchObject({
      selector: 'a',
      mode: 'append',
      chunkRows: 50,
      chunkRowsSet: true,
      batchRows: 7,
      maxAttempts: 2,
    });
    expect(j.streams[1]).toMatchObject({
      selector: 'b',
      mode: 'full-refresh',
      chunkRows: 3,
      chunkRowsSet: true,
      batchRows: 7,
      maxAttempts: 2,
      target: 'x',
      columns: ['id'],
      primaryKey: ['id'],
    });
  });

  it('keeps streams in file order and a state folder relative to the job file', () => {
    const j = job({ ...BASE, state: 'st', streams: { z: null, a: null, m: null } });
    expect(j.streams.map((s) => s.selector)).toEqual(['z', 'a', 'm']);
    expect(j.stateDir).toBe(path.resolve('/base/dir', 'st'));
  });

  it('the job hash changes with settings that shape a plan, not with parallel or state', () => {
    const h = job({ ...BASE, streams: { a: null } }).hash;
    expect(job({ ...BASE, streams: { a: { chunk_rows: 5 } } }).hash).not.toBe(h);
    expect(job({ ...BASE, target: 'sqlite:c.db', streams: { a: null } }).hash).not.toBe(h);
    expect(job({ ...BASE, defaults: { parallel: 2 }, streams: { a: null } }).hash).toBe(h);
    expect(job({ ...BASE, state: 'elsewhere', streams: { a: null } }).hash).toBe(h);
  });
});

describe('jobFromObject validation', () => {
  it('rejects what is not a mapping', () => {
    for (const raw of [null, undefined, 'text', 42, ['a']]) {
      expect(configError(() => jobFromObject(raw, 'j.yaml', '/'))).toMatch(
        /j\.yaml: the job file must be a YAML mapping/,
      );
    }
  });

  it('names unknown keys with their path', () => {
    expect(configError(() => job({ ...BASE, surce: 'x', streams: { a: null } }))).toMatch(
      /job\.yaml: unknown key "surce"/,
    );
    expect(configError(() => job({ ...BASE, defaults: { chunk_row: 5 }, streams: { a: null } }))).toMatch(
      /job\.yaml: defaults: unknown key "chunk_row"/,
    );
    expect(configError(() => job({ ...BASE, streams: { a: { primary_keys: ['id'] } } }))).toMatch(
      /job\.yaml: streams\.a: unknown key "primary_keys"/,
    );
    // parallel is only a default, not a stream setting
    expect(configError(() => job({ ...BASE, streams: { a: { parallel: 2 } } }))).toMatch(
      /streams\.a: unknown key "parallel"/,
    );
  });

  it('names the key path, what is expected and what was given for wrong values', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ defaults: { chunk_rows: 'abc' } }, /defaults\.chunk_rows: .*expected number.*\(got "abc"\)/],
      [{ defaults: { parallel: 0 } }, /defaults\.parallel: .*>0.*\(got 0\)/],
      [{ defaults: { batch_rows: -1 } }, /defaults\.batch_rows: .*\(got -1\)/],
      [{ defaults: { max_attempts: 1.5 } }, /defaults\.max_attempts: .*int.*\(got 1\.5\)/],
      [{ streams: { a: { mode: 'merge' } } }, /streams\.a\.mode: .*"full-refresh"\|"append".*\(got "merge"\)/],
      [{ streams: { a: { columns: [] } } }, /streams\.a\.columns: .*\(got \[\]\)/],
      [{ streams: { a: { columns: 'id' } } }, /streams\.a\.columns: a list of column names, or a mapping/],
      [{ streams: { a: { target: '' } } }, /streams\.a\.target: /],
      [{ streams: {} }, /streams: at least one stream is required/],
      [{ streams: ['a'] }, /streams: .*expected record/],
      [{ source: 5 }, /source: .*expected string.*\(got 5\)/],
    ];
    for (const [patch, message] of cases) {
      const doc = { ...BASE, streams: { a: null }, ...patch };
      expect(
        configError(() => job(doc)),
        JSON.stringify(patch),
      ).toMatch(message);
    }
  });

  it('reports a missing required key as (got nothing)', () => {
    expect(configError(() => job({ source: 'sqlite:a.db', streams: { a: null } }))).toMatch(
      /job\.yaml: target: .*\(got nothing\)/,
    );
  });

  it('reports every issue, one per line', () => {
    const msg = configError(() =>
      job({ ...BASE, defaults: { chunk_rows: 'abc', parallel: 0 }, streams: { a: { mode: 'x' } } }),
    );
    expect(msg.split('\n')).toHaveLength(3);
  });
});

describe('environment interpolation', () => {
  it('replaces ${VAR} in every string, nested in streams and lists', () => {
    const j = job(
      {
        source: 'postgres://u@${HOST}:5432/${DB}',
        target: 'sqlite:${DIR}/out.db',
        streams: { a: { target: '${PREFIX}_a', columns: ['id', '${COL}'] } },
      },
      { HOST: 'h1', DB: 'd1', DIR: 'data', PREFIX: 'p', COL: 'name' },
    );
    expect(j.source).toBe('postgres://u@h1:5432/d1');
    expect(j.target).toBe('sqlite:data/out.db');
    expect(j.streams[0].target).toBe('p_a');
    expect(j.streams[0].columns).toEqual(['id', 'name']);
  });

  it('${VAR:-default} takes the default when VAR is unset, the value when set', () => {
    const doc = { ...BASE, target: 'sqlite:${OUT:-fallback.db}', streams: { a: null } };
    expect(job(doc, {}).target).toBe('sqlite:fallback.db');
    expect(job(doc, { OUT: 'given.db' }).target).toBe('sqlite:given.db');
  });

  it('${VAR:-default} takes the default when VAR is set but empty (as the shell does)', () => {
    const doc = { ...BASE, target: 'sqlite:${OUT:-fallback.db}', streams: { a: null } };
    expect(job(doc, { OUT: '' }).target).toBe('sqlite:fallback.db');
  });

  it('${VAR} set to the empty string is the empty string, not an error', () => {
    expect(job({ ...BASE, target: 'sqlite:out${SUFFIX}.db', streams: { a: null } }, { SUFFIX: '' }).target).toBe(
      'sqlite:out.db',
    );
  });

  it('${VAR:-} has an empty default', () => {
    expect(job({ ...BASE, target: 'sqlite:out${SUFFIX:-}.db', streams: { a: null } }, {}).target).toBe('sqlite:out.db');
  });

  it('an unset variable without a default is an error naming the variable and the key path', () => {
    const msg = configError(() => job({ ...BASE, streams: { a: { target: 'x_${FERRY_UNSET_VAR}' } } }, {}));
    expect(msg).toMatch(/job\.yaml: streams\.a\.target: environment variable FERRY_UNSET_VAR is not set/);
    const msg2 = configError(() => job({ ...BASE, streams: { a: { columns: ['id', '${NOPE}'] } } }, {}));
    expect(msg2).toMatch(/streams\.a\.columns\[1\]: environment variable NOPE is not set/);
  });

  it('the error hint says how to fix it', () => {
    try {
      job({ ...BASE, source: '${MISSING_SRC}', streams: { a: null } }, {});
    } catch (err) {
      expect((err as ConfigError).context.hint).toMatch(/export MISSING_SRC=/);
      return;
    }
    throw new Error('expected an error');
  });

  it('text that only looks like a reference is left alone', () => {
    const j = job({ ...BASE, target: 'sqlite:$HOME/{x}/${1BAD}.db', streams: { a: null } }, { HOME: 'h' });
    expect(j.target).toBe('sqlite:$HOME/{x}/${1BAD}.db');
  });

  it('values of secret-looking variables are masked in output; others are not', () => {
    job(
      { ...BASE, source: 'postgres://u:${FERRY_UNIT_PASSWORD}@h/d', streams: { a: null } },
      { FERRY_UNIT_PASSWORD: 'Zq9-unit-pw' },
    );
    job(
      { ...BASE, source: 'postgres://u@h/${FERRY_UNIT_DBNAME}', streams: { a: null } },
      { FERRY_UNIT_DBNAME: 'visible_db' },
    );
    for (const name of ['API_TOKEN', 'MY_SECRET', 'SSH_KEY', 'AWS_CREDENTIALS']) {
      job({ ...BASE, target: 'sqlite:${' + name + '}', streams: { a: null } }, { [name]: `val-of-${name}` });
    }
    expect(redact('x Zq9-unit-pw y')).toBe('x *** y');
    expect(redact('visible_db')).toBe('visible_db');
    for (const name of ['API_TOKEN', 'MY_SECRET', 'SSH_KEY', 'AWS_CREDENTIALS']) {
      expect(redact(`val-of-${name}`)).toBe('***');
    }
  });

  it('interpolates before validating: a variable can supply a whole URL', () => {
    expect(
      job({ source: '${SRC}', target: '${TGT}', streams: { a: null } }, { SRC: 'sqlite:s.db', TGT: 'sqlite:t.db' })
        .target,
    ).toBe('sqlite:t.db');
  });
});

describe('loadJob', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-unit-job-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('reads a job file; its name is the file name without .yaml; state lives beside it', () => {
    const file = write('nightly.yaml', 'source: sqlite:a.db\ntarget: sqlite:b.db\nstreams:\n  orders:\n');
    const j = loadJob(file, {});
    expect(j.name).toBe('nightly');
    expect(j.origin).toBe(file);
    expect(j.stateDir).toBe(path.join(dir, '.ferry', 'nightly'));
    expect(j.streams[0].selector).toBe('orders');
  });

  it('malformed YAML names file:line:col', () => {
    const file = write('bad.yaml', 'source: a\nsource: b\ntarget: c\nstreams:\n  t: {}\n');
    expect(configError(() => loadJob(file, {}))).toMatch(new RegExp(`^${escapeRe(file)}:2:1: malformed YAML`));
    const file2 = write('bad2.yaml', 'source: a\ntarget: b\nstreams:\n  t: {\n  x: [1,\n');
    expect(configError(() => loadJob(file2, {}))).toMatch(new RegExp(`^${escapeRe(file2)}:\\d+:\\d+: malformed YAML`));
  });

  it('a missing file is a ConfigError naming it', () => {
    const file = path.join(dir, 'nope.yaml');
    expect(configError(() => loadJob(file, {}))).toBe(`${file}: cannot read the job file (ENOENT)`);
  });

  it('an empty file is a ConfigError', () => {
    expect(configError(() => loadJob(write('empty.yaml', ''), {}))).toMatch(/must be a YAML mapping/);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
