// Where a flow's `http` node may connect (server-side request forgery guard). Flows are deployed by
// operators, not only by the owner, so outbound requests go only to hosts on FLOW_HTTP_ALLOW_HOSTS,
// and private, loopback, link-local, metadata (169.254.169.254, fd00:ec2::254) and other non-public
// addresses only when an address or range on the list covers them. The address is checked where the
// socket connects (a custom `lookup`), so a listed name whose DNS answer changes to 127.0.0.1 (DNS
// rebinding) is still refused; redirects are followed by hand and each hop is checked again.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { createError } from '../errors.ts';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface HttpAllowList {
  /** `*`: any host whose addresses are public. */
  anyPublicHost: boolean;
  hosts: ReadonlySet<string>;
  /** `*.example.com` → `.example.com` */
  suffixes: readonly string[];
  /** Addresses and ranges that may be reached even when not public. */
  nets: ReadonlyArray<[Address, number]>;
}

export const EMPTY_HTTP_ALLOW_LIST: HttpAllowList = { anyPublicHost: false, hosts: new Set(), suffixes: [], nets: [] };

/** Redirects followed per request (each one checked). */
export const HTTP_MAX_REDIRECTS = 5;

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Parses entries: `*`, `api.example.com`, `*.example.com`, `203.0.113.7`, `10.0.0.0/8`, `fd00::/8`. */
export function parseHttpAllowList(entries: readonly string[]): { list: HttpAllowList; problems: string[] } {
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  const nets: Array<[Address, number]> = [];
  const problems: string[] = [];
  let anyPublicHost = false;
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (entry === '*') anyPublicHost = true;
    else if (ipaddr.isValidCIDR(entry)) nets.push(normalizeNet(ipaddr.parseCIDR(entry)));
    else if (isIP(entry) !== 0) {
      const a = ipaddr.process(entry);
      nets.push([a, a.kind() === 'ipv4' ? 32 : 128]);
    } else if (entry.startsWith('*.') && HOST_NAME.test(entry.slice(2))) suffixes.push(entry.slice(1));
    else if (HOST_NAME.test(entry)) hosts.add(entry);
    else problems.push(raw);
  }
  return { list: { anyPublicHost, hosts, suffixes, nets }, problems };
}

/** An IPv4-mapped IPv6 range is matched as the IPv4 range it maps. */
function normalizeNet([a, bits]: [Address, number]): [Address, number] {
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96 ? [(a as ipaddr.IPv6).toIPv4Address(), bits - 96] : [a, bits];
}

function inNets(list: HttpAllowList, address: Address): boolean {
  return list.nets.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits));
}

/** Undefined when a connection to `ip` may be made; else why not. */
export function addressRefusal(list: HttpAllowList, ip: string): string | undefined {
  let address: Address;
  try {
    address = ipaddr.process(ip.replace(/%.*$/, ''));
  } catch {
    return `address ${ip} is not allowed (not an IP address)`;
  }
  if (inNets(list, address)) return undefined;
  const range = address.range();
  // Only globally routed unicast is public; everything else (private, loopback, link-local with the
  // cloud metadata service, CGNAT, unique-local, NAT64/6to4/Teredo wrappers…) must be listed.
  if (range !== 'unicast') return `address ${address.toString()} (${range}) is not allowed; list it in FLOW_HTTP_ALLOW_HOSTS to reach it`;
  return undefined;
}

/** Undefined when the URL may be requested (its host is listed, an IP literal must be allowed too). */
export function urlRefusal(list: HttpAllowList, url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs may be requested';
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (isIP(host) !== 0) {
    const refusal = addressRefusal(list, host);
    if (refusal !== undefined) return refusal;
    return list.anyPublicHost || inNets(list, ipaddr.process(host)) ? undefined : `host ${host} is not allowed; add it to FLOW_HTTP_ALLOW_HOSTS`;
  }
  if (list.anyPublicHost || list.hosts.has(host) || list.suffixes.some((s) => host.endsWith(s))) return undefined;
  return `host ${host} is not allowed; add it to FLOW_HTTP_ALLOW_HOSTS`;
}

const notAllowed = (reason: string): Error => createError('GW_ERR_FLOW_HTTP_NOT_ALLOWED', `the http request is not allowed: ${reason}`, { statusCode: 403 });

/** A DNS lookup that fails when any address the name resolves to is not allowed. */
function guardedLookup(list: HttpAllowList): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => addressRefusal(list, a.address)).find((r) => r !== undefined);
      if (refused !== undefined) return callback(notAllowed(`${hostname}: ${refused}`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    });
  };
}

interface GuardedInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

function requestOnce(list: HttpAllowList, url: URL, init: GuardedInit): Promise<Response> {
  const transport = url.protocol === 'https:' ? https : http;
  const method = init.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method, headers: init.headers ?? {}, lookup: guardedLookup(list), agent: false, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) for (const item of v === undefined ? [] : Array.isArray(v) ? v : [v]) headers.append(k, item);
      const status = res.statusCode ?? 502;
      const empty = method === 'HEAD' || status === 204 || status === 304 || (status >= 300 && status < 400);
      if (empty) res.resume();
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * fetch for flows: checks the URL, connects only to allowed addresses, and follows up to
 * HTTP_MAX_REDIRECTS redirects, checking each (303, and 301/302 after POST, turn into a GET).
 */
export function guardedFetch(list: HttpAllowList): (url: URL, init?: GuardedInit) => Promise<Response> {
  return async (url, init = {}) => {
    let current = url;
    let request = init;
    for (let hop = 0; ; hop++) {
      const refusal = urlRefusal(list, current);
      if (refusal !== undefined) throw notAllowed(refusal);
      const res = await requestOnce(list, current, request);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || res.status === 304 || location === null) return res;
      if (hop >= HTTP_MAX_REDIRECTS) throw createError('GW_ERR_FLOW_HTTP_FAILED', `the http request was redirected more than ${HTTP_MAX_REDIRECTS} times`);
      const next = new URL(location, current);
      // As fetch does: credentials meant for one origin are not handed to another.
      if (next.origin !== current.origin && request.headers !== undefined) {
        const headers = Object.fromEntries(Object.entries(request.headers).filter(([k]) => !['authorization', 'cookie', 'proxy-authorization'].includes(k.toLowerCase())));
        request = { ...request, headers };
      }
      current = next;
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && request.method === 'POST')) {
        const { body: _body, ...rest } = request;
        request = { ...rest, method: 'GET' };
      }
    }
  };
}
