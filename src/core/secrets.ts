/**
 * Keeping secrets out of text: camera passwords, secret-looking query values (`?token=`, `&password=`, ...) and any
 * string we were told is secret. Everything here runs in linear time on any input (no backtracking regular
 * expressions): text that quotes a URL can be megabytes long (a hostile camera URL, ffmpeg's stderr), and a
 * quadratic scrubber blocks the event loop for minutes (issue 15, finding 2).
 */

/** A query parameter whose key contains one of these (any case) holds a secret. */
const SECRET_KEY_PARTS = ['pass', 'pwd', 'token', 'secret', 'key', 'auth', 'sig', 'session', 'cred'];

/** Whether a query key names a secret (`token`, `access_token`, `password`, `apiKey`, `sig`, ...). */
export function isSecretQueryKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SECRET_KEY_PARTS.some((part) => lower.includes(part));
}

/** Characters that end a URL-ish token in free text (whitespace, quotes, angle brackets, back-tick). */
function endsToken(c: number): boolean {
  return c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 96 || c === 127;
}

/**
 * Every `://user:pass@` in `text` becomes `://***@`: the userinfo is everything between `://` and the last `@` before
 * the authority ends (`/`, `?`, `#`, whitespace or a quote). One pass; each character is looked at once.
 */
export function scrubUrlCredentials(text: string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const mark = text.indexOf('://', from);
    if (mark < 0) break;
    const start = mark + 3;
    let end = start;
    let at = -1;
    while (end < text.length) {
      const c = text.charCodeAt(end);
      if (c === 47 || c === 63 || c === 35 || endsToken(c)) break; // / ? #
      if (c === 64) at = end; // @
      end++;
    }
    if (at >= 0) {
      out += `${text.slice(copied, start)}***`;
      copied = at;
    }
    // A '://' can only start inside the authority right at its end (`x://` ends it with '/'): look again from there.
    from = Math.max(end - 1, start);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * The value of every secret-looking query parameter (`?token=abc` → `?token=***`) anywhere in `text`. One pass: a
 * key starts after `?`, `&` or `;` and runs to `=`; its value runs to the next `&`, `#`, `;`, whitespace or quote.
 */
export function scrubQuerySecrets(text: string): string {
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 63 && c !== 38 && c !== 59) {
      i++;
      continue;
    }
    let k = i + 1;
    while (k < text.length && isKeyChar(text.charCodeAt(k))) k++;
    if (k === i + 1 || k >= text.length || text.charCodeAt(k) !== 61) {
      i = k; // not `key=`: carry on after what was looked at
      continue;
    }
    let v = k + 1;
    while (v < text.length) {
      const d = text.charCodeAt(v);
      if (d === 38 || d === 35 || d === 59 || endsToken(d)) break;
      v++;
    }
    if (v > k + 1 && isSecretQueryKey(text.slice(i + 1, k))) {
      out += `${text.slice(copied, k + 1)}***`;
      copied = v;
    }
    i = v;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function isKeyChar(c: number): boolean {
  // A-Z a-z 0-9 _ . - [ ] %
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 95 ||
    c === 46 ||
    c === 45 ||
    c === 91 ||
    c === 93 ||
    c === 37
  );
}

/**
 * Removes secrets from text that may quote URLs (ffmpeg's stderr prints its input, logs, error messages): URL
 * credentials, secret-looking query values, and every listed secret string wherever it appears (a password that
 * ffmpeg prints on its own, decoded). Longer secrets are replaced first, so one that contains another goes whole.
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = scrubQuerySecrets(scrubUrlCredentials(text));
  const ordered = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of ordered) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}

/** A URL for people: no credentials (`scheme://***@host`), secret query values as `***`. */
export function redactUrl(url: string): string {
  return scrubSecrets(url, urlSecrets(url));
}

/**
 * The strings of a URL that must never be shown: its password (as written, percent-decoded, and as a URL parser
 * reads it when the two disagree) and the values of secret-looking query parameters. Never throws; empty when the
 * URL holds none.
 */
export function urlSecrets(url: string): string[] {
  const out = new Set<string>();
  const add = (value: string) => {
    if (!value) return;
    out.add(value);
    const decoded = safeDecode(value) ?? value;
    out.add(decoded);
    out.add(encodeURIComponent(decoded)); // as a URL serialiser writes it
  };
  const mark = url.indexOf('://');
  if (mark >= 0) {
    // Lenient reading: the userinfo runs to the last '@' before '?', '#' or whitespace, so an unencoded '/' or '@'
    // in a password still counts as the password.
    const start = mark + 3;
    let end = start;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === 63 || c === 35 || endsToken(c)) break;
      end++;
    }
    const at = url.lastIndexOf('@', end - 1);
    if (at >= start) {
      const userinfo = url.slice(start, at);
      const colon = userinfo.indexOf(':');
      if (colon >= 0) add(userinfo.slice(colon + 1));
    }
  }
  try {
    const parsed = new URL(url);
    add(parsed.password);
    for (const [key, value] of parsed.searchParams) if (isSecretQueryKey(key)) add(value);
  } catch {
    // not a URL a parser takes: the lenient reading above is all there is
  }
  const query = url.indexOf('?');
  if (query >= 0) {
    for (const pair of url.slice(query + 1).split(/[&;#]/)) {
      const eq = pair.indexOf('=');
      if (eq > 0 && isSecretQueryKey(pair.slice(0, eq))) add(pair.slice(eq + 1));
    }
  }
  return [...out];
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined; // malformed percent-encoding: the raw form is all there is
  }
}
