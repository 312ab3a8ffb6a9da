/**
 * Structured JSON logs (winston). Log lines carry request ids, principals, routes, codes and
 * counts — never request bodies, SQL literals or data values.
 */
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level: string, silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { service: 'dpq' },
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
