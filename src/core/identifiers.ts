import { ConfigError } from './errors.js';

/** One part of a qualified name; `quoted` parts match exactly, unquoted ones case-insensitively. */
export interface NamePart {
  value: string;
  quoted: boolean;
}

/** A parsed stream selector: `schema.table`, `table`, `"My Schema"."Order Items"`, `sales.*`. */
export interface QualifiedName {
  schema?: NamePart;
  /** `undefined` with `wildcard: true` means every table of the schema. */
  table?: NamePart;
  wildcard: boolean;
}

/** A concrete table: schema is `null` for dialects without schemas (SQLite's main database). */
export interface TableRef {
  schema: string | null;
  name: string;
}

/**
 * Parses SQL identifier syntax: parts separated by dots, double-quoted parts keep case, spaces and
 * dots, `""` inside quotes is one quote. A last part `*` selects every table of the schema.
 */
export function parseQualifiedName(text: string, where = 'stream name'): QualifiedName {
  const parts: NamePart[] = [];
  let i = 0;
  const s = text.trim();
  let wildcard = false;
  while (i < s.length) {
    if (s[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= s.length) throw new ConfigError(`${where} ${JSON.stringify(text)}: unterminated quoted identifier`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += s[i++];
      }
      if (value === '') throw new ConfigError(`${where} ${JSON.stringify(text)}: empty quoted identifier`);
      parts.push({ value, quoted: true });
    } else {
      let j = i;
      while (j < s.length && s[j] !== '.') j++;
      const value = s.slice(i, j).trim();
      if (value === '*') wildcard = true;
      else if (!/^[\p{L}_][\p{L}\p{N}_$]*$/u.test(value)) {
        throw new ConfigError(
          `${where} ${JSON.stringify(text)}: ${JSON.stringify(value)} is not a valid identifier; quote it ("...") if it has spaces or symbols`,
        );
      } else parts.push({ value, quoted: false });
      i = j;
    }
    if (i < s.length) {
      if (s[i] !== '.') throw new ConfigError(`${where} ${JSON.stringify(text)}: expected "." after an identifier`);
      i++;
      if (i >= s.length) throw new ConfigError(`${where} ${JSON.stringify(text)}: ends with "."`);
    }
    if (wildcard && i < s.length) throw new ConfigError(`${where} ${JSON.stringify(text)}: "*" must be the last part`);
  }
  if (wildcard) {
    if (parts.length > 1) throw new ConfigError(`${where} ${JSON.stringify(text)}: use schema.* to select a schema`);
    return { schema: parts[0], wildcard: true };
  }
  if (parts.length === 1) return { table: parts[0], wildcard: false };
  if (parts.length === 2) return { schema: parts[0], table: parts[1], wildcard: false };
  throw new ConfigError(`${where} ${JSON.stringify(text)}: expected schema.table`);
}

/** Quotes an identifier part for display when it is not a plain lower-case name. */
export function displayPart(value: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(value) ? value : `"${value.replace(/"/g, '""')}"`;
}

/** The display name of a table: `public.orders`, `public."Order Items"`, `orders`. */
export function displayTable(ref: TableRef): string {
  return ref.schema === null ? displayPart(ref.name) : `${displayPart(ref.schema)}.${displayPart(ref.name)}`;
}

/** Does an identifier part match a name, with SQL's quoted/unquoted rules (case-insensitive when unquoted). */
export function partMatches(part: NamePart, name: string): boolean {
  return part.quoted ? part.value === name : part.value.toLowerCase() === name.toLowerCase();
}
