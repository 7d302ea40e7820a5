// Provider failures normalised to GatewayErrors that say whether trying again can help. The vendor
// SDKs throw their own error classes (openai's APIError has `status`, ElevenLabs' has `statusCode`);
// network failures carry a Node error `code`. Rule (src/errors.ts): 4xx are permanent except 408/429,
// 5xx, timeouts and dropped connections are retryable; an abort is never an error worth retrying.
import { createError, GatewayError, isAbortError, isRetryableStatus } from '../../errors.ts';

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown };
  if (typeof e.status === 'number') return e.status;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

function networkCodeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Wrap any provider failure; `retryable` follows the status/network rules above. */
export function toProviderError(provider: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const status = statusOf(err);
  const name = err instanceof Error ? err.name : '';
  const timedOut = name === 'APIConnectionTimeoutError' || name === 'TimeoutError' || name === 'ElevenLabsTimeoutError';
  const connection = name === 'APIConnectionError' || networkCodeOf(err) !== undefined;
  const retryable = status !== undefined ? isRetryableStatus(status) : timedOut || connection;
  const code = timedOut ? 'GW_ERR_PROVIDER_TIMEOUT' : 'GW_ERR_PROVIDER_FAILED';
  const message = `${provider} failed${status !== undefined ? ` with HTTP ${status}` : ''}: ${err instanceof Error ? err.message : String(err)}`;
  return createError(code, `${message}; ${retryable ? 'retried or fell back' : 'check the provider key, model and request'}`, {
    statusCode: 502,
    retryable,
    details: { provider, status },
    cause: err,
  });
}

export function isRetryableError(err: unknown): boolean {
  if (isAbortError(err)) return false;
  return err instanceof GatewayError && err.retryable;
}
