/**
 * Camera URLs, checked once where they come in (the REST API, the config file, the state file) and normalised for
 * ffmpeg. Error messages never quote the URL: it may be huge or hold a password that defeats redaction.
 */
import { InputError } from './errors.js';
import { isSecretQueryKey, urlSecrets } from './secrets.js';

/** Longest camera URL accepted by the API and the config (a long query token fits; 200 KB of path does not). */
export const MAX_CAMERA_URL_LENGTH = 4096;

export interface CameraUrl {
  /** What ffmpeg is given: lower-case scheme, credentials percent-encoded. Holds the secrets. */
  readonly href: string;
  /** For people, logs and API answers: no credentials, secret query values as `***`, no fragment. */
  readonly display: string;
  /** Strings never to reveal (password forms, secret query values). */
  readonly secrets: readonly string[];
  readonly scheme: 'rtsp' | 'rtsps';
  /** True when the URL carries credentials or secret query values (ffmpeg must not see it on its command line). */
  readonly hasSecrets: boolean;
}

/**
 * Checks and normalises an `rtsp://` or `rtsps://` URL (scheme in any case). Throws `InputError` `BAD_URL` for: a
 * URL over `maxLength` characters, whitespace or control characters, another scheme, a URL that does not parse, no
 * host, or an `@` after the host (a password with an unencoded `/` or `@`, which would otherwise be read as part of
 * the path and shown to everyone).
 */
export function parseCameraUrl(raw: string, options: { maxLength?: number } = {}): CameraUrl {
  const maxLength = options.maxLength ?? MAX_CAMERA_URL_LENGTH;
  if (typeof raw !== 'string' || raw.length === 0) throw new InputError('BAD_URL', 'the camera URL is empty');
  if (raw.length > maxLength) {
    throw new InputError('BAD_URL', `the camera URL is ${raw.length} characters long; the limit is ${maxLength}`);
  }
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 32 || c === 127) {
      throw new InputError('BAD_URL', 'the camera URL contains spaces or control characters (percent-encode them)');
    }
  }
  const scheme = /^(rtsps?):\/\//i.exec(raw)?.[1]?.toLowerCase() as 'rtsp' | 'rtsps' | undefined;
  if (!scheme) throw new InputError('BAD_URL', 'camera URLs must be rtsp:// or rtsps://');
  let url: URL;
  try {
    url = new URL(`${scheme}${raw.slice(scheme.length)}`);
  } catch {
    throw new InputError(
      'BAD_URL',
      'the camera URL is malformed (a user name or password with / ? # @ or : must be percent-encoded)',
    );
  }
  if (!url.hostname) throw new InputError('BAD_URL', 'the camera URL has no host');
  if (url.pathname.includes('@')) {
    throw new InputError(
      'BAD_URL',
      "the camera URL has an '@' after its host: percent-encode '/' and '@' in the password (%2F, %40)",
    );
  }
  url.hash = '';
  const href = url.href;
  const secrets = [...new Set([...urlSecrets(raw), ...urlSecrets(href)])];
  const query = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq > 0 && isSecretQueryKey(safeDecode(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=***` : pair;
    })
    .join('&');
  const display = `${scheme}://${url.username || url.password ? '***@' : ''}${url.host}${url.pathname}${
    query ? `?${query}` : ''
  }`;
  return { href, display, secrets, scheme, hasSecrets: secrets.length > 0 };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
