// What every logger of the gateway redacts and how it writes a request: shared by the app's own logger
// and the process logger (observability/logger.ts), in a module of its own so that a cluster's primary,
// which serves no calls, can log without loading the app.

/** Loggers never see secrets: auth headers and signatures are redacted wherever they appear. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  'req.headers["x-signalwire-signature"]',
  'headers.authorization',
  '*.token',
  '*.apiKey',
  '*.authToken',
];

/**
 * Request logs keep the path only: query strings may carry phone numbers (a carrier's GET webhook)
 * or tokens. Used by the app's own logger and by main.ts's (a logger's serializers win over fastify's).
 */
export const LOG_SERIALIZERS = {
  req: (req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
    method: req.method,
    url: req.url.split('?', 1)[0],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }),
};
