// Prometheus metrics across worker processes. Each worker keeps its own prom-client registry; whichever
// worker answers a scrape asks the primary over the cluster IPC channel, the primary collects every
// live worker's registry as JSON and merges them with prom-client's AggregatorRegistry: one series per
// metric for the total (summed, or as the metric's own aggregator says) and one per worker, labelled
// `worker="<id>"`. A worker that does not answer within the timeout is left out rather than stalling
// the scrape. Without workers (one process) the local registry is served as it is.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, register as defaultRegistry, type Registry } from 'prom-client';

/** One metric of `registry.getMetricsAsJSON()`, as it crosses the IPC channel. */
interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values?: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
}

const REQUEST = 'gw:metrics:request';
const RESULT = 'gw:metrics:result';
const COLLECT = 'gw:metrics:collect';
const REPORT = 'gw:metrics:report';
/** Longest a scrape waits for the workers' registries. */
const COLLECT_TIMEOUT_MS = 3000;

interface Msg {
  type?: string;
  id?: number;
  text?: string;
  metrics?: MetricJson[];
  error?: string;
}

const isMsg = (m: unknown): m is Msg => m !== null && typeof m === 'object' && typeof (m as Msg).type === 'string';

/**
 * The totals and per-worker series of `perWorker` (worker id → that worker's registry JSON) as one
 * Prometheus text exposition.
 */
export async function mergeWorkerMetrics(perWorker: Map<number, MetricJson[]>): Promise<string> {
  const raw = [...perWorker.values()];
  const totals = (await AggregatorRegistry.aggregate(raw).getMetricsAsJSON()) as unknown as MetricJson[];
  const byName = new Map<string, MetricJson>();
  for (const m of totals) byName.set(m.name, { ...m, aggregator: 'first', values: [...(m.values ?? [])] });
  for (const [id, metrics] of perWorker) {
    for (const m of metrics) {
      let merged = byName.get(m.name);
      if (merged === undefined) {
        // Omitted from the totals (e.g. a start time): still shown per worker.
        merged = { ...m, aggregator: 'first', values: [] };
        byName.set(m.name, merged);
      }
      for (const v of m.values ?? []) merged.values?.push({ ...v, labels: { ...v.labels, worker: String(id) } });
    }
  }
  return await AggregatorRegistry.aggregate([[...byName.values()]]).metrics();
}

/** Primary side: answers workers' scrape requests with the merged metrics of all workers. */
export function serveClusterMetrics(): void {
  let nextId = 1;
  const pending = new Map<number, { got: Map<number, MetricJson[]>; waiting: Set<number>; done: () => void }>();
  const collect = (): Promise<Map<number, MetricJson[]>> => {
    const id = nextId++;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
    const got = new Map<number, MetricJson[]>();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), COLLECT_TIMEOUT_MS);
      const finish = (): void => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(got);
      };
      pending.set(id, { got, waiting: new Set(workers.map((w) => w.id)), done: finish });
      for (const w of workers) w.send({ type: COLLECT, id });
      if (workers.length === 0) finish();
    });
  };
  cluster.on('message', (worker: Worker, msg: unknown) => {
    if (!isMsg(msg) || typeof msg.id !== 'number') return;
    if (msg.type === REPORT) {
      const p = pending.get(msg.id);
      if (p === undefined || !p.waiting.delete(worker.id)) return;
      if (Array.isArray(msg.metrics)) p.got.set(worker.id, msg.metrics);
      if (p.waiting.size === 0) p.done();
    } else if (msg.type === REQUEST) {
      const requestId = msg.id;
      collect()
        .then(mergeWorkerMetrics)
        .then(
          (text) => worker.isConnected() && worker.send({ type: RESULT, id: requestId, text }),
          (err: unknown) => worker.isConnected() && worker.send({ type: RESULT, id: requestId, error: err instanceof Error ? err.message : String(err) }),
        );
    }
  });
}

/** Worker side: hands this worker's registry to the primary when it collects. */
export function reportWorkerMetrics(registry: Registry = defaultRegistry): void {
  process.on('message', (msg: unknown) => {
    if (!isMsg(msg) || msg.type !== COLLECT || typeof msg.id !== 'number') return;
    const id = msg.id;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: REPORT, id, metrics: metrics as unknown as MetricJson[] }),
      () => process.send?.({ type: REPORT, id, metrics: [] }),
    );
  });
}

let nextRequest = 1;

/**
 * The Prometheus text a scrape of this process should return: in a worker, every worker's series and
 * the totals (through the primary); in a single process, `registry` itself.
 */
export async function clusterMetricsText(registry: Registry = defaultRegistry): Promise<string> {
  if (!cluster.isWorker || process.send === undefined) return await registry.metrics();
  const id = nextRequest++;
  return await new Promise<string>((resolve, reject) => {
    const onMessage = (msg: unknown): void => {
      if (!isMsg(msg) || msg.type !== RESULT || msg.id !== id) return;
      cleanup();
      if (typeof msg.text === 'string') resolve(msg.text);
      else reject(new Error(msg.error ?? 'the primary sent no metrics'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('the primary did not answer the metrics request in time'));
    }, COLLECT_TIMEOUT_MS + 2000);
    const cleanup = (): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    process.send?.({ type: REQUEST, id });
  });
}
