/**
 * Flattening of JSON documents (MongoDB exports and the like) into table columns and child tables,
 * so a document column lands in a database as columns people can query rather than one blob.
 *
 * The plan is made from sampled documents (`planFlatten`) and then applied to every row
 * (`flattenRow`, `childRows`). Rules:
 * - Nested objects become columns named by their key path joined with the separator
 *   (`meta.author.name` -> `meta__author__name`), down to `maxDepth` levels (1 = top-level keys).
 *   An object deeper than that is one column holding its JSON text.
 * - Arrays are one JSON column (`arrays: 'json'`), or a child table (`arrays: 'child-table'`) named
 *   like a column (`items`, `meta__tags`), one row per element: `[index, ...element columns]`.
 *   Object elements are flattened by the same rules, depth counted from the element; scalar
 *   elements are one column `value`; elements mixing objects and scalars (or holding arrays) are
 *   one JSON column `value`. Arrays inside elements are JSON: one level of child tables only.
 * - A path that holds an object (or array) in one document and a scalar in another is one JSON
 *   column: the plan never guesses which form wins.
 * - Column order is the order in which paths first appear across the samples.
 *
 * Naming: names are compared case-insensitively (MySQL column names are). Two paths that would get
 * the same name (`a.b` and a literal key `a__b`; `Name` and `name`) are never merged: the plain
 * name goes to the path that appears first, every later one gets `_` + the first 8 hex digits of
 * sha1(path joined by NUL). A name longer than 63 bytes (PostgreSQL's limit) is cut and given the
 * same suffix. The same samples therefore always give the same names. Names in `reserved` (columns
 * the caller adds itself: the record's other fields, a child table's index or parent key) are
 * taken from the start, in every table.
 *
 * The catch-all column `_extra` (renamed by the same rule if taken) is always present, last. It
 * holds, as JSON text, whatever the plan has no place for, by its nested key path: keys the samples
 * did not show, an object or array where the plan has a scalar column, a whole non-object document,
 * and for child-table arrays the unplaced parts of elements, as `{ "<array key>": { "<index>":
 * <what was left of that element> } }`. No value is ever dropped silently; `_extra` is null when
 * everything was placed.
 *
 * `FlattenOptions.column` says where the document comes from (a field of the record, or the whole
 * record); these functions take the document itself, already parsed.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../core/errors.js';

export interface FlattenOptions {
  /** The record field holding the document; null: the whole JSONL record is the document. */
  column: string | null;
  /** Levels of nested objects made columns (1 = top-level keys only). */
  maxDepth: number;
  /** Joins path keys into column names, e.g. `__`. */
  separator: string;
  arrays: 'json' | 'child-table';
  /** Column names the caller adds itself, taken before any flattened name (compared ignoring case). */
  reserved?: readonly string[];
}

export interface FlatColumn {
  name: string;
  path: string[];
  /** Value kept as JSON text (object beyond max depth, an array with arrays:'json', a type conflict). */
  json: boolean;
}

export interface ChildPlan {
  /** The array's flattened name, e.g. `items` or `meta__tags`. */
  name: string;
  path: string[];
  /** Of one element, paths relative to the element; a scalar element -> one column `value`, path []. */
  columns: FlatColumn[];
}

export interface FlatPlan {
  columns: FlatColumn[];
  children: ChildPlan[];
  /** Name of the catch-all column (see the header). */
  extra: string;
}

/* ---------------------------------------------------------------------------------------------- */
/* Planning: a tree of the paths seen in the samples.                                              */

type NodeKind = 'null' | 'scalar' | 'object' | 'json' | 'array';

interface PathNode {
  /** Order of first appearance across the samples. */
  seq: number;
  kind: NodeKind;
  kids: Map<string, PathNode>;
  /** For `array` nodes: what their elements looked like. */
  elements?: ElementShape;
}

interface ElementShape {
  root: PathNode;
  scalar: boolean;
  object: boolean;
  array: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Walks sampled documents into a PathNode tree. */
class Sampler {
  private seq = 0;
  constructor(private readonly maxDepth: number) {}

  node(): PathNode {
    return { seq: this.seq++, kind: 'null', kids: new Map() };
  }

  /** The keys of `obj`, which sit at `depth` (1 = top level of the document or element). */
  object(parent: PathNode, obj: Record<string, unknown>, depth: number, childTables: boolean): void {
    for (const [k, v] of Object.entries(obj)) {
      let n = parent.kids.get(k);
      if (!n) {
        n = this.node();
        parent.kids.set(k, n);
      }
      this.value(n, v, depth, childTables);
    }
  }

  private value(n: PathNode, v: unknown, depth: number, childTables: boolean): void {
    if (v === null || v === undefined || n.kind === 'json') return;
    if (Array.isArray(v)) {
      if (childTables && (n.kind === 'null' || n.kind === 'array')) this.array(n, v);
      else toJson(n);
    } else if (isObject(v)) {
      if (depth >= this.maxDepth || (n.kind !== 'null' && n.kind !== 'object')) toJson(n);
      else {
        n.kind = 'object';
        this.object(n, v, depth + 1, childTables);
      }
    } else if (n.kind === 'null' || n.kind === 'scalar') n.kind = 'scalar';
    else toJson(n);
  }

  private array(n: PathNode, arr: readonly unknown[]): void {
    n.kind = 'array';
    n.elements ??= { root: this.node(), scalar: false, object: false, array: false };
    const e = n.elements;
    for (const el of arr) {
      if (Array.isArray(el)) e.array = true;
      else if (isObject(el)) {
        e.object = true;
        this.object(e.root, el, 1, false);
      } else if (el !== null && el !== undefined) e.scalar = true;
    }
  }
}

function toJson(n: PathNode): void {
  n.kind = 'json';
  n.kids.clear();
  n.elements = undefined;
}

interface Found {
  seq: number;
  path: string[];
  node: PathNode;
}

/** The column (leaf, json) and array nodes under `parent`, in order of first appearance. */
function collect(parent: PathNode): Found[] {
  const out: Found[] = [];
  const walk = (p: PathNode, prefix: string[]): void => {
    for (const [k, n] of p.kids) {
      const path = [...prefix, k];
      if (n.kind === 'object') walk(n, path);
      else out.push({ seq: n.seq, path, node: n });
    }
  };
  walk(parent, []);
  return out.sort((a, b) => a.seq - b.seq);
}

/* ---------------------------------------------------------------------------------------------- */
/* Naming.                                                                                          */

const MAX_NAME_BYTES = 63;

function pathHash(path: readonly string[], chars: number): string {
  return createHash('sha1').update(path.join('\u0000')).digest('hex').slice(0, chars);
}

/** `name` cut to at most `bytes` UTF-8 bytes, never inside a character. */
function cutBytes(name: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of name) {
    used += Buffer.byteLength(ch);
    if (used > bytes) break;
    out += ch;
  }
  return out;
}

/** Hands out names unique ignoring case; first come keeps the plain name. */
class Namer {
  private readonly taken = new Set<string>();
  constructor(
    private readonly separator: string,
    reserved: readonly string[] = [],
  ) {
    for (const r of reserved) this.taken.add(r.toLowerCase());
  }

  name(path: readonly string[]): string {
    const plain = path.join(this.separator);
    if (plain !== '' && Buffer.byteLength(plain) <= MAX_NAME_BYTES && this.take(plain)) return plain;
    // Longer hashes only if a suffixed name is itself taken (a literal key spelled like one).
    for (const chars of [8, 16, 40]) {
      const suffix = `_${pathHash(path, chars)}`;
      const name = cutBytes(plain, MAX_NAME_BYTES - suffix.length) + suffix;
      if (this.take(name)) return name;
    }
    for (let i = 2; ; i++) {
      const name = `_${pathHash(path, 40)}_${i}`;
      if (this.take(name)) return name;
    }
  }

  private take(name: string): boolean {
    const key = name.toLowerCase();
    if (this.taken.has(key)) return false;
    this.taken.add(key);
    return true;
  }
}

/* ---------------------------------------------------------------------------------------------- */
/* The plan.                                                                                        */

function validate(o: FlattenOptions): void {
  if (!Number.isInteger(o.maxDepth) || o.maxDepth < 1) {
    throw new ConfigError(`flatten: max depth must be a whole number of at least 1, not ${o.maxDepth}`, {
      hint: '1 makes columns of the top-level keys only',
    });
  }
}

function elementColumns(e: ElementShape | undefined, o: FlattenOptions): FlatColumn[] {
  const namer = new Namer(o.separator, o.reserved);
  if (e?.object && !e.scalar && !e.array) {
    return collect(e.root).map((f) => ({ name: namer.name(f.path), path: f.path, json: f.node.kind === 'json' }));
  }
  return [{ name: namer.name(['value']), path: [], json: e !== undefined && (e.array || e.object) }];
}

/**
 * The columns and child tables for documents like the sampled ones (non-objects among them are
 * skipped). The same samples and options always give the same plan.
 */
export function planFlatten(docs: readonly unknown[], o: FlattenOptions): FlatPlan {
  validate(o);
  const sampler = new Sampler(o.maxDepth);
  const root = sampler.node();
  for (const doc of docs) if (isObject(doc)) sampler.object(root, doc, 1, o.arrays === 'child-table');
  const found = collect(root);
  const columns = new Namer(o.separator, o.reserved);
  const tables = new Namer(o.separator);
  const plan: FlatPlan = { columns: [], children: [], extra: '' };
  for (const f of found) {
    if (f.node.kind === 'array') {
      plan.children.push({ name: tables.name(f.path), path: f.path, columns: elementColumns(f.node.elements, o) });
    } else plan.columns.push({ name: columns.name(f.path), path: f.path, json: f.node.kind === 'json' });
  }
  plan.extra = columns.name(['_extra']);
  return plan;
}

/* ---------------------------------------------------------------------------------------------- */
/* Applying the plan: a tree of slots, built once per plan.                                         */

interface Slot {
  kids: Map<string, Slot>;
  /** Index of the column this path fills. */
  column?: number;
  json?: boolean;
  /** The child table this array path fills. */
  child?: Slot;
}

function slotTree(columns: readonly FlatColumn[], root: Slot = { kids: new Map() }): Slot {
  columns.forEach((c, i) => {
    const s = slotAt(root, c.path);
    s.column = i;
    s.json = c.json;
  });
  return root;
}

function slotAt(root: Slot, path: readonly string[]): Slot {
  let s = root;
  for (const k of path) {
    let next = s.kids.get(k);
    if (!next) {
      next = { kids: new Map() };
      s.kids.set(k, next);
    }
    s = next;
  }
  return s;
}

const planSlots = new WeakMap<FlatPlan, Slot>();
const childSlots = new WeakMap<ChildPlan, Slot>();

function slotsOfChild(child: ChildPlan): Slot {
  let s = childSlots.get(child);
  if (!s) {
    s = slotTree(child.columns);
    childSlots.set(child, s);
  }
  return s;
}

function slotsOfPlan(plan: FlatPlan): Slot {
  let s = planSlots.get(plan);
  if (!s) {
    s = slotTree(plan.columns);
    for (const c of plan.children) slotAt(s, c.path).child = slotsOfChild(c);
    planSlots.set(plan, s);
  }
  return s;
}

/** Sets an own property, even `__proto__` (JSON.parse makes such keys; assignment would not). */
function setOwn(obj: Record<string, unknown>, key: string, v: unknown): void {
  Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/**
 * Puts `v` (found at `slot`) into `out`; returns what had no place, or undefined when all of it
 * was placed.
 */
function place(v: unknown, slot: Slot, out: unknown[]): unknown {
  if (v === undefined) return undefined;
  if (slot.column !== undefined) {
    if (slot.json) out[slot.column] = v === null ? null : JSON.stringify(v);
    else if (isScalar(v)) out[slot.column] = v;
    else return v;
    return undefined;
  }
  if (slot.child) return elementsLeft(v, slot.child);
  if (v === null) return undefined;
  if (!isObject(v)) return v;
  const left: Record<string, unknown> = {};
  let any = false;
  for (const [k, x] of Object.entries(v)) {
    const kid = slot.kids.get(k);
    const l = kid ? place(x, kid, out) : x;
    if (l !== undefined) {
      setOwn(left, k, l);
      any = true;
    }
  }
  return any ? left : undefined;
}

/** What the child table cannot hold of an array: per element index, the element's leftovers. */
function elementsLeft(v: unknown, child: Slot): unknown {
  if (v === null) return undefined;
  if (!Array.isArray(v)) return v;
  const left: Record<string, unknown> = {};
  let any = false;
  v.forEach((el, i) => {
    const l = place(el, child, []);
    if (l !== undefined) {
      setOwn(left, String(i), l);
      any = true;
    }
  });
  return any ? left : undefined;
}

/**
 * One parent row: values in `plan.columns` order, then the `_extra` column. Leaves are as in JSON
 * (missing -> null); JSON columns are JSON text; child-table arrays are left to `childRows`.
 */
export function flattenRow(doc: unknown, plan: FlatPlan): unknown[] {
  const out: unknown[] = new Array(plan.columns.length + 1).fill(null);
  const left = place(doc, slotsOfPlan(plan), out);
  out[plan.columns.length] = left === undefined ? null : JSON.stringify(left);
  return out;
}

function valueAt(doc: unknown, path: readonly string[]): unknown {
  let v = doc;
  for (const k of path) {
    if (!isObject(v) || !Object.hasOwn(v, k)) return undefined;
    v = v[k];
  }
  return v;
}

/**
 * The child table's rows of one document: `[index (0-based), ...values in child.columns order]`
 * per element; no array at the path -> no rows. Unplaced parts go to the parent's `_extra`.
 */
export function childRows(doc: unknown, child: ChildPlan): unknown[][] {
  const arr = valueAt(doc, child.path);
  if (!Array.isArray(arr)) return [];
  const slots = slotsOfChild(child);
  return arr.map((el, i) => {
    const out: unknown[] = new Array(child.columns.length).fill(null);
    place(el, slots, out);
    return [i, ...out];
  });
}
