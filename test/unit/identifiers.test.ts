/** parseQualifiedName: SQL identifier syntax of stream selectors and targets. No servers. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { displayPart, displayTable, parseQualifiedName, partMatches } from '../../src/core/identifiers.js';

describe('parseQualifiedName', () => {
  it('parses a bare table name', () => {
    expect(parseQualifiedName('orders')).toEqual({ table: { value: 'orders', quoted: false }, wildcard: false });
  });

  it('parses schema.table', () => {
    expect(parseQualifiedName('public.orders')).toEqual({
      schema: { value: 'public', quoted: false },
      table: { value: 'orders', quoted: false },
      wildcard: false,
    });
  });

  it('keeps case, spaces and dots inside quotes', () => {
    expect(parseQualifiedName('"My Schema"."Order.Items v2"')).toEqual({
      schema: { value: 'My Schema', quoted: true },
      table: { value: 'Order.Items v2', quoted: true },
      wildcard: false,
    });
  });

  it('reads a doubled quote inside quotes as one quote', () => {
    const q = parseQualifiedName('"a""b"."say ""hi"""');
    expect(q.schema).toEqual({ value: 'a"b', quoted: true });
    expect(q.table).toEqual({ value: 'say "hi"', quoted: true });
  });

  it('mixes quoted and unquoted parts', () => {
    const q = parseQualifiedName('sales."Q1.2024"');
    expect(q.schema).toEqual({ value: 'sales', quoted: false });
    expect(q.table).toEqual({ value: 'Q1.2024', quoted: true });
  });

  it('keeps unquoted case as written (matching is what ignores case)', () => {
    expect(parseQualifiedName('Public.Orders').table).toEqual({ value: 'Orders', quoted: false });
  });

  it('accepts unicode letters, digits, _ and $ in unquoted names', () => {
    expect(parseQualifiedName('données.tbl_1$x').table?.value).toBe('tbl_1$x');
    expect(parseQualifiedName('données.tbl_1$x').schema?.value).toBe('données');
  });

  it('trims surrounding whitespace and whitespace around unquoted parts', () => {
    expect(parseQualifiedName('  public . orders ')).toEqual(parseQualifiedName('public.orders'));
  });

  it('parses schema.* as a wildcard over the schema', () => {
    expect(parseQualifiedName('sales.*')).toEqual({ schema: { value: 'sales', quoted: false }, wildcard: true });
    expect(parseQualifiedName('"Sales Dept".*')).toEqual({
      schema: { value: 'Sales Dept', quoted: true },
      wildcard: true,
    });
  });

  it('parses a lone * as every table of the default schema', () => {
    const q = parseQualifiedName('*');
    expect(q.wildcard).toBe(true);
    expect(q.schema).toBeUndefined();
    expect(q.table).toBeUndefined();
  });

  it('a quoted "*" is a table named *, not a wildcard', () => {
    expect(parseQualifiedName('s."*"')).toEqual({
      schema: { value: 's', quoted: false },
      table: { value: '*', quoted: true },
      wildcard: false,
    });
  });

  const errors: [string, RegExp][] = [
    ['public."unterminated', /unterminated quoted identifier/],
    ['"', /unterminated quoted identifier/],
    ['a.b.c.d', /expected schema\.table/],
    ['a.b.c', /expected schema\.table/],
    ['', /expected schema\.table/],
    ['a..b', /"" is not a valid identifier/],
    ['.a', /is not a valid identifier/],
    ['a.', /ends with "\."/],
    ['""', /empty quoted identifier/],
    ['a.""', /empty quoted identifier/],
    ['"a"b', /expected "\." after an identifier/],
    ['"a" .b', /expected "\." after an identifier/],
    ['sales.*.x', /"\*" must be the last part/],
    ['*.orders', /"\*" must be the last part/],
    ['order items', /"order items" is not a valid identifier; quote it/],
    ['1abc', /"1abc" is not a valid identifier/],
    ['a-b', /"a-b" is not a valid identifier/],
    ['db.sales.*', /use schema\.\* to select a schema/],
  ];
  for (const [text, message] of errors) {
    it(`rejects ${JSON.stringify(text)} with a ConfigError naming it`, () => {
      let caught: unknown;
      try {
        parseQualifiedName(text, 'stream');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const msg = (caught as Error).message;
      expect(msg).toMatch(message);
      expect(msg.startsWith(`stream ${JSON.stringify(text)}:`)).toBe(true);
    });
  }
});

describe('displayPart / displayTable / partMatches', () => {
  it('quotes only names that are not plain lower case', () => {
    expect(displayPart('orders')).toBe('orders');
    expect(displayPart('Orders')).toBe('"Orders"');
    expect(displayPart('order items')).toBe('"order items"');
    expect(displayPart('say "hi"')).toBe('"say ""hi"""');
    expect(displayTable({ schema: 'public', name: 'Order Items' })).toBe('public."Order Items"');
    expect(displayTable({ schema: null, name: 'orders' })).toBe('orders');
  });

  it('display form parses back to the same parts', () => {
    for (const name of ['orders', 'Orders', 'a.b', 'say "hi"', 'x y', 'ünï']) {
      const q = parseQualifiedName(displayTable({ schema: 's', name }));
      expect(q.table?.value).toBe(name);
    }
  });

  it('matches unquoted parts ignoring case, quoted parts exactly', () => {
    expect(partMatches({ value: 'ORDERS', quoted: false }, 'orders')).toBe(true);
    expect(partMatches({ value: 'orders', quoted: false }, 'Orders')).toBe(true);
    expect(partMatches({ value: 'Orders', quoted: true }, 'orders')).toBe(false);
    expect(partMatches({ value: 'Orders', quoted: true }, 'Orders')).toBe(true);
  });
});
