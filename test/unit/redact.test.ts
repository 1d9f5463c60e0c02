/** redact / redactUrl: passwords in URLs and registered secrets never reach output. No servers. */
import { describe, expect, it } from 'vitest';
import { redact, redactUrl, registerSecret } from '../../src/core/redact.js';

describe('redactUrl', () => {
  it('masks the password of a URL and keeps everything else', () => {
    expect(redactUrl('postgres://alice:s3cr3t@db.example:5432/app')).toBe('postgres://alice:***@db.example:5432/app');
    expect(redactUrl('postgresql://u:p@127.0.0.1/x?sslmode=require')).toBe(
      'postgresql://u:***@127.0.0.1/x?sslmode=require',
    );
  });

  it('masks passwords with URL-encoded and symbol characters', () => {
    const url = 'postgres://u:p%40ss:w/rd!$&=@h:1/db';
    const out = redactUrl(url);
    expect(out).toBe('postgres://u:***@h:1/db');
    expect(out).not.toContain('p%40ss');
  });

  it('masks an empty password too', () => {
    expect(redactUrl('postgres://u:@h/db')).toBe('postgres://u:***@h/db');
  });

  it('leaves URLs without a password alone', () => {
    for (const url of [
      'postgres://alice@h:5432/db',
      'postgres://h:5432/db',
      'postgres://h/db',
      'sqlite:data/x.db',
      'sqlite:///abs/path.db',
    ]) {
      expect(redactUrl(url)).toBe(url);
    }
  });

  it('masks a password given as a URL parameter', () => {
    expect(redactUrl('postgres://h/db?user=u&password=QpSecret1&sslmode=require')).toBe(
      'postgres://h/db?user=u&password=***&sslmode=require',
    );
    expect(redactUrl('postgres://h/db?password=QpSecret1')).toBe('postgres://h/db?password=***');
    expect(redactUrl('postgres://h/db?sslpassword=KeyPass9')).not.toContain('KeyPass9');
  });
});

describe('redact', () => {
  it('masks every URL password in a text', () => {
    const text = 'copy postgres://a:pw1xx@h1/d to postgres://b:pw2yy@h2/d failed: postgres://c@h3/d';
    const out = redact(text);
    expect(out).toBe('copy postgres://a:***@h1/d to postgres://b:***@h2/d failed: postgres://c@h3/d');
  });

  it('does not swallow text after a URL without a password', () => {
    expect(redact('postgres://h:5432/db and user@example.com')).toBe('postgres://h:5432/db and user@example.com');
  });

  it('masks a URL-parameter password in running text but keeps the punctuation after it', () => {
    expect(redact('cannot connect to postgres://h/x?password=QpSecret123: role does not exist')).toBe(
      'cannot connect to postgres://h/x?password=***: role does not exist',
    );
    expect(redact('{"source":"postgres://h/x?password=QpSecret123"}')).toBe('{"source":"postgres://h/x?password=***"}');
  });

  it('masks registered secrets wherever they appear', () => {
    registerSecret('Tr1cky-Secret');
    const out = redact('value Tr1cky-Secret and again xTr1cky-Secretx');
    expect(out).toBe('value *** and again x***x');
  });

  it('masks secrets that contain regex metacharacters literally', () => {
    registerSecret('a.b*c(d)');
    expect(redact('a.b*c(d) aXbbbc(d)')).toBe('*** aXbbbc(d)');
  });

  it('ignores secrets shorter than 3 characters (they would mask ordinary text)', () => {
    registerSecret('ab');
    expect(redact('abc ab')).toBe('abc ab');
  });

  it('leaves text without secrets unchanged', () => {
    const text = 'stream public.orders: 12 rows, chunk c00001';
    expect(redact(text)).toBe(text);
  });
});
