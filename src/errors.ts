// One factory for errors with stable codes (fastify's createError style). A code never changes once
// shipped; the message says what to do about it.
export class GatewayError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: string, message: string, opts: { statusCode?: number; retryable?: boolean; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.statusCode = opts.statusCode ?? 500;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
  }
}

export function createError(
  code: `GW_ERR_${string}`,
  message: string,
  opts: { statusCode?: number; retryable?: boolean; details?: unknown; cause?: unknown } = {},
): GatewayError {
  return new GatewayError(code, message, opts);
}

/** The JSON body a client receives for an error: `{ code, message, details? }` plus route-specific fields. */
export function errorBody(err: GatewayError, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }), ...extra };
}

/** Vendor HTTP status → retryable? 4xx are permanent except 408 (timeout) and 429 (rate limit). */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500;
}

/** True for the error an aborted task throws; such a task exits quietly. */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'APIUserAbortError');
}
