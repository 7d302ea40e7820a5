// A replayed call recorded end to end on both databases: registered on the call by id and URL (no path),
// served with Range requests as stereo or one channel, deleted, and expired by retention. The same
// call shows its outcome and transcript through GET /v1/calls/{id}.
import { readFileSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { decodeWav } from '../../dsp/wav.ts';
import { RecordingStore } from '../../src/recording/recordingStore.ts';
import { applyRetention } from '../../src/recording/retention.ts';
import { LocalRecordingStorage } from '../../src/recording/storage.ts';
import { replayCall } from '../../src/replay/client.ts';
import { testDatabases } from '../helpers/db.ts';
import { gatewayForSuite, PUBLIC_URL } from '../helpers/gateway.ts';

const HELLO = decodeWav(readFileSync(new URL('../../fixtures/speech/human_hello.wav', import.meta.url)));

describe.each(testDatabases())('recordings (%s)', (kind) => {
  const gw = gatewayForSuite(kind, { env: { RECORD_CALLS: 'true' } });
  let callId: string;
  const fetchRec = (q = '', headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${gw.httpUrl}/v1/calls/${callId}/recording${q}`, { method, headers: { authorization: `Bearer ${gw.apiKey}`, ...headers } });

  beforeAll(async () => {
    const result = await replayCall({ carrier: 'twilio', audio: HELLO, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 5, holdMs: 60_000 });
    callId = result.callId as string;
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
  });

  it('registers the recording on the call by id and URL, with its outcome and transcript', async () => {
    const { status, body } = await gw.api(`/v1/calls/${callId}`);
    expect(status).toBe(200);
    expect(body.recording).toMatchObject({ id: callId, url: `/v1/calls/${callId}/recording`, status: 'saved', deletedAt: null });
    expect(body.recording.durationMs).toBeGreaterThan(2000);
    expect(body.recording.bytes).toBe(44 + (body.recording.durationMs / 1000) * 8000 * 4);
    expect(JSON.stringify(body)).not.toContain(gw.config.dataDir);
    expect(body.call.recordingPath).toBeUndefined();
    // The default flow greets and hangs up: a completed call, the greeting heard in full.
    expect(body.outcome).toMatchObject({ category: 'completed', failureReason: null });
    expect(body.transcript.length).toBeGreaterThan(0);
    expect(body.transcript[0]).toMatchObject({ speaker: 'gateway', source: 'prompt', interrupted: false });
    expect(body.analysis).toBeNull();
    const saved = body.events.find((e: { type: string }) => e.type === 'recording.saved');
    expect(saved).toMatchObject({ recordingId: callId });
    const file = path.join(gw.config.dataDir, 'recordings', `${callId}.wav`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('streams the whole file and byte ranges, for each channel choice, each a valid WAV', async () => {
    const full = await fetchRec();
    expect(full.status).toBe(200);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(full.headers.get('content-type')).toBe('audio/wav');
    const stereo = Buffer.from(await full.arrayBuffer());
    expect(Number(full.headers.get('content-length'))).toBe(stereo.length);
    const s = new wavefile.WaveFile(stereo);
    expect((s.fmt as { numChannels: number }).numChannels).toBe(2);
    const [left, right] = s.getSamples(false, Int16Array) as unknown as [Int16Array, Int16Array];
    // The gateway spoke (right channel not silent), the caller's file is on the left.
    expect(right.some((x) => Math.abs(x) > 1000)).toBe(true);
    expect(left.some((x) => Math.abs(x) > 1000)).toBe(true);

    for (const [channel, samples] of [['caller', left], ['gateway', right]] as const) {
      const res = await fetchRec(`?channel=${channel}`);
      const mono = Buffer.from(await res.arrayBuffer());
      expect(mono.length).toBe(44 + samples.length * 2);
      const w = new wavefile.WaveFile(mono);
      expect((w.fmt as { numChannels: number }).numChannels).toBe(1);
      expect(Array.from(w.getSamples(false, Int16Array) as unknown as Int16Array)).toEqual(Array.from(samples));
      // A range inside the data, as a browser seeking would ask.
      const part = await fetchRec(`?channel=${channel}`, { range: 'bytes=1000-1999' });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${mono.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(mono.subarray(1000, 2000))).toBe(true);
    }
    const head = await fetchRec('', { range: 'bytes=0-43' });
    expect(Buffer.from(await head.arrayBuffer()).equals(stereo.subarray(0, 44))).toBe(true);
    const tail = await fetchRec('?channel=both', { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(stereo.subarray(stereo.length - 10))).toBe(true);
    const open = await fetchRec('', { range: `bytes=${stereo.length - 5}-` });
    expect((await open.arrayBuffer()).byteLength).toBe(5);
    const bad = await fetchRec('', { range: `bytes=${stereo.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${stereo.length}`);
    expect((await fetchRec('?channel=left')).status).toBe(400);
  });

  it('deletes the recording: the file is gone and the call says when', async () => {
    const del = await fetchRec('', {}, 'DELETE');
    expect(del.status).toBe(204);
    await expect(access(path.join(gw.config.dataDir, 'recordings', `${callId}.wav`))).rejects.toThrow();
    expect((await fetchRec()).status).toBe(410);
    const { body } = await gw.api(`/v1/calls/${callId}`);
    expect(body.recording.status).toBe('deleted');
    expect(body.recording.deletedAt).not.toBeNull();
    expect((await gw.api('/v1/calls/nope/recording')).status).toBe(404);
  });

  it('retention deletes only recordings older than the period', async () => {
    const storage = new LocalRecordingStorage(path.join(gw.config.dataDir, 'recordings'));
    const store = new RecordingStore(gw.tdb.db.pool);
    const pool = gw.tdb.db.pool;
    for (const [id, age] of [['old1', 40], ['old2', 31], ['new1', 5]] as const) {
      await pool.query(`INSERT INTO calls (id, carrier, direction, from_number, to_number, status, created_at) VALUES ($1, 'twilio', 'inbound', '+1', '+2', 'completed', now() - $2 * interval '1 day')`, [id, age]);
      const f = await storage.create(id);
      await f.write(Buffer.from('RIFF'));
      await f.close();
      await store.begin(id, id);
    }
    expect(await applyRetention(store, storage, 30)).toBe(2);
    expect(await storage.size('old1')).toBeNull();
    expect(await storage.size('old2')).toBeNull();
    expect(await storage.size('new1')).toBe(4);
    expect((await store.get('old1'))?.status).toBe('deleted');
    expect((await store.get('new1'))?.status).toBe('recording');
    expect(await applyRetention(store, storage, 30)).toBe(0);
  });
});
