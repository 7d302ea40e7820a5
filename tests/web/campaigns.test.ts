// Pending until the campaigns API (issue 11) is merged: create a campaign in the page, upload a CSV
// (preview, then the import report with the invalid line), start and pause it; a viewer sees no
// controls and the API refuses the viewer too.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.ts';
import { startSimGateway, type SimGateway } from '../campaign/harness.ts';
import { adminPassword, launchBrowser, newPage, shot, signIn } from './browser.ts';

describe('campaigns in the dashboard', () => {
  let gw: TestGateway;
  let sg: SimGateway;
  let browser: Browser;
  beforeAll(async () => {
    // A campaign starts only with carrier credentials: the gateway dials the carrier simulator.
    [sg, browser] = await Promise.all([startSimGateway('pglite'), launchBrowser()]);
    gw = sg.gw;
    await gw.api('/v1/flows', { body: { id: 'reminder', start: 'hi', nodes: { hi: { type: 'say', text: 'Hi', next: 'bye' }, bye: { type: 'hangup' } } } });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await sg?.close();
  });

  it('creates a campaign, imports a CSV with a report, starts and pauses it', async () => {
    const { page, errors } = await newPage(browser, gw.httpUrl);
    await signIn(page, 'admin', adminPassword(gw.tdb.dataDir));
    await page.goto('/#/campaigns');
    await page.getByText('No campaigns yet').waitFor();
    await page.getByLabel('Name').fill('Reminders');
    await page.getByLabel('Caller ID').fill('+14155550100');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('campaign-state').waitFor();
    expect(await page.getByTestId('campaign-state').textContent()).toBe('draft');
    const csv = path.join(os.tmpdir(), `contacts-${process.pid}.csv`);
    writeFileSync(csv, 'phone,name\n+14155550100,Ann\nnot-a-number,Bob\n+14155550101,Cy\n');
    await page.getByTestId('csv').setInputFiles(csv);
    await page.getByRole('table', { name: 'First rows of the file' }).waitFor();
    await page.getByRole('button', { name: 'Import' }).click();
    const report = page.getByTestId('import-report');
    await report.waitFor();
    expect(await report.textContent()).toContain('Accepted 2, invalid 1');
    await page.getByText('line 3:').waitFor();
    await shot(page, '21-campaign');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('campaign-state').filter({ hasText: 'running' }).waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('campaign-state').filter({ hasText: 'paused' }).waitFor();
    expect(errors).toEqual([]);

    await gw.api('/v1/users', { body: { name: 'vic', role: 'viewer', password: 'viewer-password-1' } });
    const viewer = await newPage(browser, gw.httpUrl);
    await signIn(viewer.page, 'vic', 'viewer-password-1');
    const id = page.url().split('/').pop() ?? '';
    await viewer.page.goto(`/#/campaigns/${id}`);
    await viewer.page.getByTestId('campaign-state').waitFor();
    expect(await viewer.page.getByRole('group', { name: 'Campaign controls' }).count()).toBe(0);
    const status = await viewer.page.evaluate(async (campaignId) => {
      const s = (await (await fetch('/v1/auth/session')).json()) as { csrfToken: string };
      return (await fetch(`/v1/campaigns/${campaignId}/resume`, { method: 'POST', headers: { 'x-csrf-token': s.csrfToken, 'content-type': 'application/json' }, body: '{}' })).status;
    }, id);
    expect(status).toBe(403);
  });
});
