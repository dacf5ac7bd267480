import { type Logger, pino } from 'pino';

/** Redacts a URL's credentials and secret query values, in linear time (src/core/secrets.ts). */
export { redactUrl } from './secrets.js';
export type { Logger };

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
