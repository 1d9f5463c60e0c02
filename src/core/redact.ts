/**
 * Secrets never reach a log line or the terminal. Passwords in connection URLs are masked, and every
 * value that came from `${ENV_VAR}` interpolation of a secret-looking variable is registered here and
 * masked wherever it appears.
 */
const secrets = new Set<string>();

/** Registers a value that must never be printed (e.g. an interpolated password). */
export function registerSecret(value: string): void {
  if (value.length >= 3) secrets.add(value);
}

/** Masks the password of a URL (`postgres://u:pw@h/db` -> `postgres://u:***@h/db`). */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]*)@/i, '$1***@')
    .replace(/([?&](?:ssl)?password=)[^&#\s]*/gi, '$1***');
}

/**
 * A password given as a URL parameter (`?password=...`, which libpq and node-postgres accept). In
 * running text, punctuation that ends the URL (`url: message`) is left in place.
 */
const QUERY_PASSWORD = /([?&](?:ssl)?password=)[^&#\s]*?(?=[:;,.)'"]?(?:[\s&#'"]|$))/gi;

/** Masks URL passwords and registered secrets anywhere in a text. */
export function redact(text: string): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]*)@/gi, '$1***@').replace(QUERY_PASSWORD, '$1***');
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}
