// Deletes recordings older than the retention period, in the background, in small batches. Safe with
// several instances sharing the storage: deleting a file already gone is not an error, and marking a
// call deleted is idempotent.
import { startPeriodic } from '../periodic.ts';
import type { RecordingStore } from './recordingStore.ts';
import type { RecordingStorage } from './storage.ts';

const BATCH = 200;

export interface RetentionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** One pass: deletes every recording of calls created before `now - days` (until `stop`, between batches). Returns how many. */
export async function applyRetention(recordings: RecordingStore, storage: RecordingStorage, days: number, now: Date = new Date(), stop?: AbortSignal): Promise<number> {
  const before = new Date(now.getTime() - days * 24 * 3600 * 1000);
  let deleted = 0;
  for (;;) {
    const batch = await recordings.expired(before, BATCH);
    for (const r of batch) {
      await storage.delete(r.recordingId);
      await recordings.markDeleted(r.callId);
      deleted++;
    }
    if (batch.length < BATCH || stop?.aborted === true) return deleted;
  }
}

/** Runs applyRetention now and every `intervalMs` until stopped; failures are logged and retried next time. The stop waits for the batch in flight. */
export function startRetention(recordings: RecordingStore, storage: RecordingStorage, days: number, log: RetentionLogger, intervalMs = 3600_000): () => Promise<void> {
  return startPeriodic(
    async (stopped) => {
      const n = await applyRetention(recordings, storage, days, new Date(), stopped);
      if (n > 0) log.info({ deleted: n, retentionDays: days }, 'deleted recordings past their retention');
    },
    intervalMs,
    (err) => log.warn({ err }, 'recording retention pass failed; retrying later'),
  );
}
