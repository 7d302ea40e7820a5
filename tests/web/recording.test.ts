// Pending until the recordings API (issue 12) is merged: a recorded call's page plays its recording
// (the audio element's time advances) and a marker on the waveform seeks it.
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall } from '../../src/replay/client.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminPassword, launchBrowser, newPage, shot, signIn } from './browser.ts';

/** The part of an <audio> element the test reads (no DOM types in this project's compile). */
type Media = { play(): Promise<void>; currentTime: number };

const HELLO = decodeWav(readFileSync(new URL('../../fixtures/speech/human_hello.wav', import.meta.url)));

describe('recording on the call page', () => {
  let gw: TestGateway;
  let browser: Browser;
  beforeAll(async () => {
    [gw, browser] = await Promise.all([startTestGateway('pglite', { env: { RECORD_CALLS: 'true' } }), launchBrowser()]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('plays the recording and seeks it from a marker', async () => {
    const result = await replayCall({ carrier: 'twilio', audio: HELLO, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 5, holdMs: 60_000, dtmf: [{ digit: '5', atMs: 600 }] });
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
    const { page, errors } = await newPage(browser, gw.httpUrl);
    await signIn(page, 'admin', adminPassword(gw.tdb.dataDir));
    await page.goto(`/#/calls/${result.callId}`);
    const audio = page.getByTestId('recording');
    await audio.waitFor();
    await page.locator('.waveform canvas').waitFor();
    await shot(page, '20-call-recording');
    await audio.evaluate((el) => (el as unknown as Media).play());
    await page.waitForTimeout(1500);
    expect(await audio.evaluate((el) => (el as unknown as Media).currentTime)).toBeGreaterThan(0.5);
    await page.locator('.marker', { hasText: 'DTMF 5' }).click();
    const t = await audio.evaluate((el) => (el as unknown as Media).currentTime);
    expect(t).toBeGreaterThanOrEqual(0.55);
    expect(t).toBeLessThan(1.5);
    expect(errors).toEqual([]);
  });
});
