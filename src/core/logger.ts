import { type Logger, pino } from 'pino';

export type { Logger };

/** Redacts the password (and user) of a URL such as rtsp://user:pass@host/path. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, '$1***@');
}

/** The root logger. `LOG_LEVEL` sets the level; logs go to stderr so stdout stays machine-readable. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'emostream',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      // A safety net: camera URLs are logged only in redacted form (`redactUrl`, `scrubSecrets`) by their owners.
      redact: { paths: ['password', '*.password', 'token', '*.token', 'auth', '*.auth'], censor: '[redacted]' },
    },
    pino.destination(2),
  );
}
