// The flow store's call-set-up reads (flow by id, route by number) through a ReadCache, so a new call
// finds its flow even while the database is slow: fresh values from memory, a bounded wait otherwise,
// the last known value (or nothing: the shipped/default flow) when the database does not answer.
import { RESYNC } from './changeFeed.ts';
import { ReadCache, type ReadCacheOptions } from './readCache.ts';
import type { FlowStore, NumberRoute, StoredFlow } from './flows.ts';

export type FlowReads = Pick<FlowStore, 'get' | 'getNumber'>;

export interface CachedFlowReads extends FlowReads {
  caches: { flows: ReadCache<StoredFlow | undefined>; numbers: ReadCache<NumberRoute | undefined> };
  /** Apply a change announced as "table:key" (the 003 triggers' payload), or RESYNC for everything. */
  invalidate(change: string): void;
}

export function cachedFlowReads(store: FlowReads, opts: ReadCacheOptions): CachedFlowReads {
  const flows = new ReadCache<StoredFlow | undefined>(opts);
  const numbers = new ReadCache<NumberRoute | undefined>(opts);
  return {
    caches: { flows, numbers },
    invalidate(change) {
      if (change === RESYNC) {
        flows.invalidate();
        numbers.invalidate();
        return;
      }
      const colon = change.indexOf(':');
      const table = change.slice(0, colon);
      const key = change.slice(colon + 1);
      if (table === 'numbers') numbers.invalidate(key);
      else if (table === 'flows') flows.invalidateWhere((k) => k.startsWith(`${key}@`));
    },
    get: (id, version) => flows.get(`${id}@${version ?? 'latest'}`, () => store.get(id, version), undefined),
    getNumber: (e164) => numbers.get(e164, () => store.getNumber(e164), undefined),
  };
}
