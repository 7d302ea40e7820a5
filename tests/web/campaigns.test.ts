// Campaigns in the page: create a campaign, upload a CSV (preview, then the import report with the
// invalid line), start and pause it; a viewer sees no controls and the API refuses the viewer too.
// Contacts whose call outcome is unknown are resolved from the campaign page's review queue, and the
// pinned flow version is shown and moved to the latest on request.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.ts';
import { openZone, startSimGateway, waitFor, type SimGateway } from '../campaign/harness.ts';
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

  it('resolves contacts in review from the campaign page and shows the pinned flow version', async () => {
    const c = (await gw.api('/v1/campaigns', {
      body: { name: 'Review me', flowId: 'reminder', callerIds: ['+14155550100'], timezone: 'UTC', window: { start: '00:00', end: '24:00' }, pacing: { callsPerMinute: 600, callsPerHour: 10000 } },
    })).body;
    await gw.api(`/v1/campaigns/${c.id}/contacts`, { body: { contacts: [{ phone: '+14155550406', name: 'Ann', timezone: openZone() }, { phone: '+14155550407', name: 'Bo', timezone: openZone() }] } });
    // The carrier answers after the gateway gave up: the calls may have rung, their outcome is unknown.
    sg.sim.setCreateLatency(10_500);
    await gw.api(`/v1/campaigns/${c.id}/start`, { method: 'POST' });
    await waitFor('two contacts in review', async () => ((await gw.api(`/v1/campaigns/${c.id}/stats`)).body.contacts.review === 2 ? true : undefined));
    sg.sim.setCreateLatency(0);
    // A redeploy after the start: the campaign keeps dialing the version it started with.
    await gw.api('/v1/flows', { body: { id: 'reminder', start: 'hi', nodes: { hi: { type: 'say', text: 'Hello again', next: 'bye' }, bye: { type: 'hangup' } } } });

    const { page, errors } = await newPage(browser, gw.httpUrl);
    await signIn(page, 'admin', adminPassword(gw.tdb.dataDir));
    await page.goto(`/#/campaigns/${c.id}`);
    await page.getByTestId('campaign-flow').filter({ hasText: 'reminder v1' }).waitFor();
    const rows = page.getByTestId('review-row');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    await shot(page, '22-campaign-review');
    const ann = page.getByRole('group', { name: 'Resolve +14155550406' });
    await ann.getByLabel('Disposition').fill('called-back');
    await ann.getByRole('button', { name: 'Mark done' }).click();
    await page.getByTestId('review-done').filter({ hasText: '+14155550406: done' }).waitFor();
    await page.getByRole('group', { name: 'Resolve +14155550407' }).getByRole('button', { name: 'Do not call' }).click();
    await page.getByTestId('review-empty').waitFor();
    const contacts = (await gw.api(`/v1/campaigns/${c.id}/contacts`)).body.contacts as Array<{ phone: string; state: string; disposition: string }>;
    expect(contacts.map((x) => [x.phone, x.state, x.disposition]).sort()).toEqual([
      ['+14155550406', 'done', 'called-back'],
      ['+14155550407', 'do-not-call', 'do-not-call'],
    ]);
    expect((await gw.api('/v1/dnc/%2B14155550407')).body.listed).toBe(true);

    // The campaign completed with nothing left to dial; a new one shows its version and follows a redeploy on request.
    const next = (await gw.api('/v1/campaigns', { body: { name: 'Pinned', flowId: 'reminder', flowVersion: 1, callerIds: ['+14155550100'] } })).body;
    await gw.api(`/v1/campaigns/${next.id}/start`, { method: 'POST' });
    await gw.api(`/v1/campaigns/${next.id}/pause`, { method: 'POST' });
    await page.goto(`/#/campaigns/${next.id}`);
    await page.getByTestId('campaign-flow').filter({ hasText: 'reminder v1' }).waitFor();
    await page.getByRole('button', { name: 'Use the latest flow version' }).click();
    await page.getByTestId('campaign-flow').filter({ hasText: 'reminder v2' }).waitFor();
    expect(errors).toEqual([]);
  }, 120_000);
});
