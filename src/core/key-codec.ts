/**
 * JSON that keeps bigints and Buffers (chunk bounds and plans are stored as JSON in the state
 * store and printed by `--json`): `{"$bigint":"123"}`, `{"$bytes":"00ff"}`.
 */
export function toJson(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    function replacer(this: Record<string, unknown>, key: string, v: unknown) {
      const raw = this[key];
      if (typeof raw === 'bigint') return { $bigint: raw.toString() };
      if (Buffer.isBuffer(raw)) return { $bytes: raw.toString('hex') };
      if (typeof raw === 'number' && (!Number.isFinite(raw) || Object.is(raw, -0))) {
        return { $float: Object.is(raw, -0) ? '-0' : String(raw) };
      }
      return v;
    },
    space,
  );
}

export function fromJson<T = unknown>(text: string): T {
  return JSON.parse(text, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof v.$bigint === 'string') return BigInt(v.$bigint);
      if (typeof v.$bytes === 'string') return Buffer.from(v.$bytes, 'hex');
      if (typeof v.$float === 'string') return Number(v.$float);
    }
    return v;
  }) as T;
}
