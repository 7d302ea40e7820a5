// Post-call analysis through the official openai SDK against the fake OpenAI server, on both databases:
// stored on the call, classified only into the flow's dispositions, retried after a failure.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCallDetails } from '../../src/analytics/callDetails.ts';
import { parseAnalysis, PostCallAnalyzer } from '../../src/analytics/postCallAnalysis.ts';
import { EventLog } from '../../src/store/eventLog.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openaiServer.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';
import { insertCalls } from './fixtures.ts';

const answer = (disposition: string | null, sentiment = 'positive'): string[] => ['{"summary": "The caller booked ', `a visit for Tuesday.", "disposition": ${JSON.stringify(disposition)}, "sentiment": "${sentiment}"}`];

describe.each(testDatabases())('post-call analysis (%s)', (kind) => {
  let fake: FakeOpenAi;
  let t: TestDatabase;
  let eventLog: EventLog;
  const warnings: object[] = [];
  beforeAll(async () => {
    fake = await startFakeOpenAi();
  });
  afterAll(() => fake.close());
  beforeEach(async () => {
    t = await openTestDatabase(kind);
    eventLog = new EventLog({ db: t.db.pool });
    await insertCalls(t.db.pool, [{ id: 'a1', direction: 'inbound', flowId: 'A', createdAt: '2026-03-02T10:00:00Z', status: 'completed', answeredAfterS: 1, endedAfterS: 20, outcome: 'success' }]);
    eventLog.append('a1', { type: 'turn.completed', atMs: 2000, data: { turn: 0, heardMs: 2000, audioMs: 2000, text: 'Hello, how can I help?' } });
    eventLog.append('a1', { type: 'speech.started', atMs: 2500 });
    eventLog.append('a1', { type: 'turn.transcript', atMs: 4000, data: { turn: 1, text: 'I would like to book for Tuesday', source: 'stt' } });
  });
  afterEach(async () => {
    await eventLog.close();
    await t.cleanup();
  });
  const analyzer = () =>
    new PostCallAnalyzer({ apiKey: fake.apiKey, baseURL: fake.baseURL, model: 'gpt-4o-mini', db: t.db.pool, eventLog, concurrency: 1, log: { warn: (o) => warnings.push(o) } });

  it('stores summary, disposition and sentiment from the transcript, retrying a failed attempt', async () => {
    fake.chat.push({ fault: 'http500' }, { text: answer('appointment_booked') });
    const a = analyzer();
    a.enqueue('a1', ['appointment_booked', 'not_interested']);
    await a.settle();
    const details = await loadCallDetails(t.db.pool, 'a1');
    expect(details.analysis).toMatchObject({ status: 'done', summary: 'The caller booked a visit for Tuesday.', disposition: 'appointment_booked', sentiment: 'positive', model: 'gpt-4o-mini' });
    const sent = JSON.stringify(fake.chatRequests.at(-1));
    expect(sent).toContain('I would like to book for Tuesday');
    expect(sent).toContain('not_interested');
    await a.close();
  });

  it('keeps only the flow’s dispositions, and gives up after its attempts without an analysis', async () => {
    fake.chat.push({ text: answer('made_up') });
    const a = analyzer();
    a.enqueue('a1', ['callback']);
    await a.settle();
    expect((await loadCallDetails(t.db.pool, 'a1')).analysis).toMatchObject({ disposition: null });
    await t.db.pool.query('UPDATE calls SET analysis = NULL');
    fake.chat.push({ fault: 'http500' }, { fault: 'http500' }, { fault: 'http500' });
    a.enqueue('a1', []);
    await a.settle();
    expect((await loadCallDetails(t.db.pool, 'a1')).analysis).toBeNull();
    expect(warnings.length).toBeGreaterThan(0);
    await a.close();
  });
});

describe('parseAnalysis', () => {
  it('refuses an answer without a summary and defaults an unknown sentiment to neutral', () => {
    expect(() => parseAnalysis('{"disposition": null}', [], 'm', new Date(0))).toThrow(/summary/);
    expect(parseAnalysis('Sure! {"summary": "x", "sentiment": "ecstatic"}', [], 'm', new Date(0))).toMatchObject({ summary: 'x', sentiment: 'neutral', disposition: null });
  });
});
