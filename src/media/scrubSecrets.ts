/** Moved to src/core/secrets.ts (linear-time scrubbing); kept for the sources that still import it from here. */
export { scrubSecrets, urlSecrets } from '../core/secrets.js';
