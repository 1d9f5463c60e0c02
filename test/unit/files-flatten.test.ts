import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  childRows,
  type FlatPlan,
  type FlattenOptions,
  flattenRow,
  planFlatten,
} from '../../src/connectors/files/files-flatten.js';
import { ConfigError } from '../../src/core/errors.js';

const opts = (o: Partial<FlattenOptions> = {}): FlattenOptions => ({
  column: null,
  maxDepth: 3,
  separator: '__',
  arrays: 'json',
  ...o,
});

const names = (p: FlatPlan): string[] => p.columns.map((c) => c.name);
const suffix = (path: string[]): string =>
  `_${createHash('sha1').update(path.join('\u0000')).digest('hex').slice(0, 8)}`;

describe('planFlatten: objects', () => {
  it('nested objects become columns down to max depth, in order of first appearance', () => {
    const docs = [
      { id: 1, meta: { author: { name: 'a' } }, n: 2 },
      { id: 2, meta: { tag: 'x' } },
    ];
    const p = planFlatten(docs, opts());
    expect(p.columns).toEqual([
      { name: 'id', path: ['id'], json: false },
      { name: 'meta__author__name', path: ['meta', 'author', 'name'], json: false },
      { name: 'n', path: ['n'], json: false },
      { name: 'meta__tag', path: ['meta', 'tag'], json: false },
    ]);
    expect(p.children).toEqual([]);
    expect(p.extra).toBe('_extra');
  });
  it('objects beyond max depth are one JSON column', () => {
    const docs = [{ a: { b: { c: 1 } }, d: { e: 1 } }];
    expect(planFlatten(docs, opts({ maxDepth: 1 })).columns).toEqual([
      { name: 'a', path: ['a'], json: true },
      { name: 'd', path: ['d'], json: true },
    ]);
    expect(planFlatten(docs, opts({ maxDepth: 2 })).columns).toEqual([
      { name: 'a__b', path: ['a', 'b'], json: true },
      { name: 'd__e', path: ['d', 'e'], json: false },
    ]);
  });
  it('uses the separator', () => {
    expect(names(planFlatten([{ a: { b: 1 } }], opts({ separator: '.' })))).toEqual(['a.b']);
    expect(names(planFlatten([{ a: { b: 1 } }], opts({ separator: '_' })))).toEqual(['a_b']);
  });
  it('skips samples that are not objects', () => {
    expect(names(planFlatten([null, 5, 'x', [1], { a: 1 }], opts()))).toEqual(['a']);
  });
  it('a path holding an object in one document and a scalar in another is one JSON column', () => {
    const p = planFlatten([{ a: { b: 1 } }, { a: 5 }, { c: 1 }, { c: { d: 1 } }], opts());
    expect(p.columns).toEqual([
      { name: 'a', path: ['a'], json: true },
      { name: 'c', path: ['c'], json: true },
    ]);
    expect(flattenRow({ a: 5, c: { d: 1 } }, p)).toEqual(['5', '{"d":1}', null]);
  });
  it('nulls do not decide a path: a later object still flattens', () => {
    expect(names(planFlatten([{ a: null }, { a: { b: 1 } }], opts()))).toEqual(['a__b']);
    expect(planFlatten([{ a: null }], opts()).columns).toEqual([{ name: 'a', path: ['a'], json: false }]);
  });
  it('rejects a max depth below 1', () => {
    expect(() => planFlatten([], opts({ maxDepth: 0 }))).toThrow(ConfigError);
    expect(() => planFlatten([], opts({ maxDepth: 1.5 }))).toThrow(ConfigError);
  });
});

describe('planFlatten: names', () => {
  it('colliding paths are never merged: the later one gets a hash suffix, the same every time', () => {
    const docs = [{ a: { b: 1 } }, { a__b: 2 }];
    const p1 = planFlatten(docs, opts());
    const p2 = planFlatten(structuredClone(docs), opts());
    expect(names(p1)).toEqual(['a__b', `a__b${suffix(['a__b'])}`]);
    expect(p2).toEqual(p1);
    expect(flattenRow({ a: { b: 1 }, a__b: 2 }, p1)).toEqual([1, 2, null]);
  });
  it('names differing only in case collide', () => {
    const p = planFlatten([{ Name: 'x', name: 'y', NAME: 'z' }], opts());
    expect(names(p)).toEqual(['Name', `name${suffix(['name'])}`, `NAME${suffix(['NAME'])}`]);
  });
  it('the first appearance keeps the plain name, whatever the key order inside a document', () => {
    expect(names(planFlatten([{ a__b: 2 }, { a: { b: 1 } }], opts()))).toEqual(['a__b', `a__b${suffix(['a', 'b'])}`]);
  });
  it('the catch-all is _extra unless a key takes it; reserved names are taken first', () => {
    const p = planFlatten([{ _extra: 1, id: 2 }], opts({ reserved: ['ID'] }));
    expect(names(p)).toEqual(['_extra', `id${suffix(['id'])}`]);
    expect(p.extra).toBe(`_extra${suffix(['_extra'])}`);
  });
  it('long and empty names are made valid', () => {
    const long = 'k'.repeat(80);
    const p = planFlatten([{ [long]: 1, '': 2 }], opts());
    const [a, b] = names(p);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a.endsWith(suffix([long]))).toBe(true);
    expect(b).toBe(suffix(['']));
  });
});

describe('planFlatten: arrays', () => {
  const docs = [
    { id: 1, tags: ['a', 'b'], items: [{ sku: 'x', qty: 1, dims: { w: 2 } }], meta: { tags: [1] } },
    { id: 2, items: [{ sku: 'y', opts: [1, 2] }] },
  ];
  it("arrays: 'json' makes JSON columns", () => {
    const p = planFlatten(docs, opts());
    expect(p.columns).toEqual([
      { name: 'id', path: ['id'], json: false },
      { name: 'tags', path: ['tags'], json: true },
      { name: 'items', path: ['items'], json: true },
      { name: 'meta__tags', path: ['meta', 'tags'], json: true },
    ]);
    expect(p.children).toEqual([]);
    expect(flattenRow(docs[0], p)).toEqual([1, '["a","b"]', '[{"sku":"x","qty":1,"dims":{"w":2}}]', '[1]', null]);
  });
  it("arrays: 'child-table' makes child plans, scalar elements as `value`", () => {
    const p = planFlatten(docs, opts({ arrays: 'child-table' }));
    expect(names(p)).toEqual(['id']);
    expect(p.children).toEqual([
      { name: 'tags', path: ['tags'], columns: [{ name: 'value', path: [], json: false }] },
      {
        name: 'items',
        path: ['items'],
        columns: [
          { name: 'sku', path: ['sku'], json: false },
          { name: 'qty', path: ['qty'], json: false },
          { name: 'dims__w', path: ['dims', 'w'], json: false },
          { name: 'opts', path: ['opts'], json: true },
        ],
      },
      { name: 'meta__tags', path: ['meta', 'tags'], columns: [{ name: 'value', path: [], json: false }] },
    ]);
    expect(flattenRow(docs[0], p)).toEqual([1, null]);
  });
  it('element max depth counts from the element', () => {
    const p = planFlatten([{ items: [{ a: { b: { c: 1 } } }] }], opts({ arrays: 'child-table', maxDepth: 1 }));
    expect(p.children[0].columns).toEqual([{ name: 'a', path: ['a'], json: true }]);
  });
  it('elements mixing objects and scalars, or holding arrays, are one JSON value', () => {
    const p = planFlatten([{ m: [1, { a: 1 }], n: [[1], [2]] }], opts({ arrays: 'child-table' }));
    expect(p.children.map((c) => c.columns)).toEqual([
      [{ name: 'value', path: [], json: true }],
      [{ name: 'value', path: [], json: true }],
    ]);
    expect(childRows({ m: [1, { a: 1 }, null] }, p.children[0])).toEqual([
      [0, '1'],
      [1, '{"a":1}'],
      [2, null],
    ]);
  });
  it('an array in one document and a scalar in another is a JSON column', () => {
    const p = planFlatten([{ t: [1] }, { t: 'x' }], opts({ arrays: 'child-table' }));
    expect(p.columns).toEqual([{ name: 't', path: ['t'], json: true }]);
    expect(p.children).toEqual([]);
  });
  it('child table names are collision-checked among themselves; element columns against reserved', () => {
    const p = planFlatten([{ a: { b: [1] }, a__b: [2] }], opts({ arrays: 'child-table', reserved: ['value'] }));
    expect(p.children.map((c) => c.name)).toEqual(['a__b', `a__b${suffix(['a__b'])}`]);
    expect(p.children[0].columns[0].name).toBe(`value${suffix(['value'])}`);
  });
});

describe('flattenRow', () => {
  const p = planFlatten([{ id: 1, meta: { a: 1, deep: { x: 1 } }, s: 'x' }], opts({ maxDepth: 2 }));
  it('gives leaves as in JSON, JSON columns as text, missing as null, extra last', () => {
    expect(names(p)).toEqual(['id', 'meta__a', 'meta__deep', 's']);
    expect(flattenRow({ id: 7, meta: { a: true, deep: { x: [1] } }, s: null }, p)).toEqual([
      7,
      true,
      '{"x":[1]}',
      null,
      null,
    ]);
    expect(flattenRow({}, p)).toEqual([null, null, null, null, null]);
  });
  it('keys the samples did not show land in _extra by their nested paths', () => {
    const row = flattenRow({ id: 1, meta: { a: 1, b: 2, c: { d: 3 } }, z: null, q: [1] }, p);
    expect(row.slice(0, 4)).toEqual([1, 1, null, null]);
    expect(JSON.parse(row[4] as string)).toEqual({ meta: { b: 2, c: { d: 3 } }, z: null, q: [1] });
  });
  it('an object where the plan has a scalar column goes to _extra, not into the column', () => {
    const row = flattenRow({ id: { oid: 'x' }, meta: 5 }, p);
    expect(row.slice(0, 4)).toEqual([null, null, null, null]);
    expect(JSON.parse(row[4] as string)).toEqual({ id: { oid: 'x' }, meta: 5 });
  });
  it('a document that is not an object: all columns null, extra holds it', () => {
    expect(flattenRow([1, 2], p)).toEqual([null, null, null, null, '[1,2]']);
    expect(flattenRow('x', p)).toEqual([null, null, null, null, '"x"']);
    expect(flattenRow(null, p)).toEqual([null, null, null, null, null]);
  });
  it('keeps a __proto__ key as data', () => {
    const doc: unknown = JSON.parse('{"id":1,"__proto__":{"polluted":true}}');
    const row = flattenRow(doc, p);
    expect(row).toEqual([1, null, null, null, '{"__proto__":{"polluted":true}}']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('childRows', () => {
  const docs = [{ id: 1, items: [{ sku: 'x', qty: 1 }], tags: ['a'] }];
  const p = planFlatten(docs, opts({ arrays: 'child-table' }));
  const [tags, items] = [p.children.find((c) => c.name === 'tags')!, p.children.find((c) => c.name === 'items')!];
  it('gives one row per element with its 0-based index', () => {
    const doc = { id: 2, items: [{ sku: 'y' }, { qty: 3, sku: 'z' }], tags: ['b', 'c', null] };
    expect(childRows(doc, items)).toEqual([
      [0, 'y', null],
      [1, 'z', 3],
    ]);
    expect(childRows(doc, tags)).toEqual([
      [0, 'b'],
      [1, 'c'],
      [2, null],
    ]);
    expect(flattenRow(doc, p)).toEqual([2, null]);
  });
  it('a missing or non-array value gives no rows', () => {
    expect(childRows({ id: 3 }, items)).toEqual([]);
    expect(childRows({ items: null }, items)).toEqual([]);
    expect(childRows('x', items)).toEqual([]);
  });
  it("what an element's columns cannot hold goes to the parent's _extra by element index", () => {
    const doc = { id: 4, items: [{ sku: 'a' }, { sku: 'b', color: 'red' }, 'loose'], tags: ['t', { x: 1 }] };
    expect(childRows(doc, items)).toEqual([
      [0, 'a', null],
      [1, 'b', null],
      [2, null, null],
    ]);
    expect(childRows(doc, tags)).toEqual([
      [0, 't'],
      [1, null],
    ]);
    const row = flattenRow(doc, p);
    expect(JSON.parse(row[1] as string)).toEqual({ items: { 1: { color: 'red' }, 2: 'loose' }, tags: { 1: { x: 1 } } });
  });
  it('an object where the plan has an array goes to _extra', () => {
    expect(JSON.parse(flattenRow({ items: { sku: 'x' } }, p)[1] as string)).toEqual({ items: { sku: 'x' } });
  });
});
