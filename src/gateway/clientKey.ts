// The key limits count a client by: an IPv4 address as is, an IPv6 address by its /64 prefix. One
// subscriber or host usually gets a whole /64, so keying on full IPv6 addresses would let a client
// rotate through 2^64 keys, past every limit and into unbounded limiter memory (RFC 6177, RFC 7421).
import ipaddr from 'ipaddr.js';

export function clientKey(ip: string): string {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.process(ip.replace(/%.*$/, ''));
  } catch {
    return ip;
  }
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}
