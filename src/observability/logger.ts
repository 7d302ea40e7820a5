// The process logger: human-readable lines (pino-pretty) when stdout is a terminal, JSON lines
// otherwise (log shippers parse them). Secrets are redacted either way.
import pino, { type Logger } from 'pino';
import { LOG_REDACT, LOG_SERIALIZERS } from './logFields.ts';

export function createLogger(level: string, tty: boolean = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    redact: LOG_REDACT,
    serializers: LOG_SERIALIZERS,
    ...(tty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}
