import { pino, type Logger } from 'pino';

/** Log level names pino accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The commands' structured logger: JSON lines on stderr, written synchronously so the last
 * lines before `process.exit` (the shutdown summary) are never lost (stdout stays free for data and the
 * progress display). Never pass secrets in log fields; config loading redacts them.
 */
export function createLogger(level: string = process.env['CONVWATCH_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, base: { app: 'convwatch' }, redact: { paths: ['*.password', '*.token', 'password', 'token'], censor: '[redacted]' } }, pino.destination({ dest: 2, sync: true }));
}
