// Development and deployment helper for coturn, configured from the same SFU_* variables as the server:
//   node dist/server/turn/cli.js run            start coturn in the foreground until SIGTERM / SIGINT
//   node dist/server/turn/cli.js render FILE    write the rendered turnserver.conf to FILE (mode 0600)
import fs from 'node:fs';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../logging/logger.js';
import { renderCoturnConfig } from './coturnConfig.js';
import { startCoturn } from './coturnProcess.js';

const [command, file] = process.argv.slice(2);
try {
  const config = loadConfig();
  if (command === 'render' && file) {
    fs.writeFileSync(file, renderCoturnConfig(config), { mode: 0o600 });
    process.stderr.write(`wrote ${file} (it holds the TURN secret: keep it readable by coturn only)\n`);
  } else if (command === 'run') {
    const logger = createLogger(config.log.level === 'info' ? 'debug' : config.log.level);
    const coturn = await startCoturn(config, logger);
    const stop = () => void coturn.stop().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } else {
    process.stderr.write('usage: coturn run | coturn render FILE\n');
    process.exit(2);
  }
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}
