// A free loopback port for a server a test or benchmark starts itself, in another process (a throwaway
// PostgreSQL, a gateway whose cluster primary binds the port for its workers).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Where throwaway servers listen: below the kernel's ephemeral range (32768–60999 on Linux), so a server
 * stopped by a test cannot find its port taken, when it starts again, by another test's listen(0) or
 * outgoing connection (a full run once lost the fault suite's PostgreSQL that way).
 */
function throwawayPortRange(): [number, number] {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 24_000) return [20_000, 24_000];
  } catch {
    // Not Linux: keep the fixed range.
  }
  return [55_000, 59_000];
}

/** A free loopback port for a throwaway server (see throwawayPortRange). */
export async function freePort(): Promise<number> {
  const [from, to] = throwawayPortRange();
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (to - from));
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}
