import { createLogger } from '../core/logger.js';
import { Server } from '../server/Server.js';
import { parseCommand } from './cliArgs.js';
import { loadConfig } from './loadConfig.js';

/** `emostream serve`: runs until SIGINT/SIGTERM, then shuts down within the configured time and exits 0. */
export async function serve(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    config: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
  });
  const config = loadConfig(values.config as string | undefined, {
    host: values.host as string | undefined,
    port: values.port === undefined ? undefined : Number(values.port),
  });
  const logger = createLogger();
  const server = await Server.start(config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'signal received');
      const timer = setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        process.exit(1);
      }, config.server.shutdownTimeoutMs);
      timer.unref();
      server.close().then(resolve, (err) => {
        logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
