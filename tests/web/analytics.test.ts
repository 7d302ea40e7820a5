// Pending until the analytics API (issue 12) is merged: the analytics page draws its charts for a
// period with calls, and the export button downloads a CSV of those calls.
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall } from '../../src/replay/client.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminPassword, launchBrowser, newPage, shot, signIn } from './browser.ts';

const HELLO = decodeWav(readFileSync(new URL('../../fixtures/speech/human_hello.wav', import.meta.url)));

describe('analytics in the dashboard', () => {
  let gw: TestGateway;
  let browser: Browser;
  beforeAll(async () => {
    [gw, browser] = await Promise.all([startTestGateway('pglite'), launchBrowser()]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('charts the period and exports its calls as CSV', async () => {
    await replayCall({ carrier: 'twilio', audio: HELLO, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 10, holdMs: 60_000 });
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
    const { page, errors } = await newPage(browser, gw.httpUrl);
    await signIn(page, 'admin', adminPassword(gw.tdb.dataDir));
    await page.goto('/#/analytics');
    await page.locator('.chart canvas').first().waitFor();
    await shot(page, '22-analytics');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const file = await download.path();
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\n')[0]).toContain('id');
    expect(csv.trim().split('\n').length).toBe(2);
    expect(errors).toEqual([]);
  });
});
