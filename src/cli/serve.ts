import { createLogger } from '../core/logger.js';
import { Server } from '../server/Server.js';
import { defineCommand } from './command.js';
import { loadConfig } from './loadConfig.js';

/** `emostream serve`: runs until SIGINT/SIGTERM, then shuts down within the configured time and exits 0. */
export const serveCommand = defineCommand(
  {
    name: 'serve',
    synopsis: '[--config FILE] [--host H] [--port P] [--cluster nats://HOST:PORT]',
    description: [
      'The server: the web client, the REST API, the /signal and /events WebSockets, /healthz and /metrics.',
      'Without a config file it listens on 127.0.0.1:8080 with the embedded models and no token (README.md,',
      '"Configuration"). Logs go to stderr as JSON lines (LOG_LEVEL sets the level). SIGINT or SIGTERM stops it.',
    ].join('\n'),
    options: {
      config: { type: 'string', arg: 'FILE', help: 'YAML configuration (unknown keys are errors)' },
      host: { type: 'string', arg: 'H', help: 'interface to listen on (overrides server.host; default 127.0.0.1)' },
      port: { type: 'string', arg: 'P', help: 'port (overrides server.port; default 8080; 0 picks a free one)' },
      cluster: {
        type: 'string',
        arg: 'URL',
        help: 'share the cameras with other nodes over NATS JetStream (cluster.url; docs/scaling.md)',
      },
    },
    examples: [
      'emostream serve',
      'emostream serve --config emostream.yaml --host 0.0.0.0',
      'emostream serve --cluster nats://10.0.0.5:4222',
    ],
  },
  async (args) => {
    const config = loadConfig(args.string('config'), {
      host: args.string('host'),
      port: args.has('port') ? args.int('port', 0, 65535) : undefined,
      cluster: args.string('cluster'),
    });
    const logger = createLogger();
    const server = await Server.start(config, logger).catch((err) => {
      // A failed start may leave a half-open socket behind (nats.js on a peer that is not NATS): exit regardless,
      // once the error is printed.
      setTimeout(() => process.exit(process.exitCode ?? 1), 1000).unref();
      throw err;
    });
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
  },
);
