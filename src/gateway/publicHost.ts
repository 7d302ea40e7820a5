// In local unauthenticated mode nothing proves a webhook or stream came from a carrier; binding to
// loopback is what protects it. A tunnel (ngrok…) or a DNS-rebinding page can still reach loopback
// under another name, so carrier routes there answer only requests addressed to PUBLIC_URL's host or
// to a loopback name. (With credentials, signatures authenticate requests and Host is not checked.)
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLoopback, type Config } from '../config.ts';
import { createError } from '../errors.ts';

function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

export function publicHostCheck(config: Pick<Config, 'publicUrl'>): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = config.publicUrl.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return async (request) => {
    const host = hostnameOf(request.headers.host ?? '');
    if (host === expected || isLoopback(host)) return;
    request.log.warn({ host, ip: request.ip }, 'refused a carrier request addressed to another host in local unauthenticated mode');
    throw createError('GW_ERR_HOST_NOT_ALLOWED', `requests must be addressed to ${expected} (PUBLIC_URL) or a loopback name; set PUBLIC_URL to the address carriers use`, { statusCode: 403 });
  };
}
