// The flow store's call-set-up reads (flow by id, route by number) through a ReadCache, so a new call
// finds its flow even while the database is slow: fresh values from memory, a bounded wait otherwise,
// the last known value (or nothing: the shipped/default flow) when the database does not answer.
import { ReadCache, type ReadCacheOptions } from './readCache.ts';
import type { FlowStore, NumberRoute, StoredFlow } from './flows.ts';

export type FlowReads = Pick<FlowStore, 'get' | 'getNumber'>;

export function cachedFlowReads(store: FlowReads, opts: ReadCacheOptions): FlowReads & { caches: { flows: ReadCache<StoredFlow | undefined>; numbers: ReadCache<NumberRoute | undefined> } } {
  const flows = new ReadCache<StoredFlow | undefined>(opts);
  const numbers = new ReadCache<NumberRoute | undefined>(opts);
  return {
    caches: { flows, numbers },
    get: (id, version) => flows.get(`${id}@${version ?? 'latest'}`, () => store.get(id, version), undefined),
    getNumber: (e164) => numbers.get(e164, () => store.getNumber(e164), undefined),
  };
}
