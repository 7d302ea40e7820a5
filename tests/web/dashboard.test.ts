// The dashboard in a real Chromium against a real gateway on port 0 (PGlite), calls placed by the
// replay client: sign in, a live call appears and ends, its call page, a flow deploy refused with the
// error at its node, a viewer kept from recordings and changes (UI and API), a change without the
// CSRF token refused, and the audit log. Screenshots of every page go to tmp/screenshots.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../dsp/wav.ts';
import { replayCall } from '../../src/replay/client.ts';
import { PUBLIC_URL, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminPassword, launchBrowser, newPage, SCREENSHOTS, shot, signIn } from './browser.ts';

const HELLO = decodeWav(readFileSync(new URL('../../fixtures/speech/human_hello.wav', import.meta.url)));

const INVALID_FLOW = {
  id: 'broken-menu',
  start: 'greet',
  nodes: {
    greet: { type: 'say', text: 'Hello', next: 'menu' },
  },
};
const VALID_FLOW = {
  id: 'web-demo',
  name: 'Web demo',
  start: 'greet',
  nodes: {
    greet: { type: 'say', text: 'Hello from the dashboard test.', next: 'bye' },
    bye: { type: 'hangup', reason: 'done' },
  },
};

describe('dashboard in Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: { page: Page; errors: string[] };

  beforeAll(async () => {
    [gw, browser] = await Promise.all([startTestGateway('pglite'), launchBrowser()]);
    const { page, errors } = await newPage(browser, gw.httpUrl);
    admin = { page, errors };
    process.stdout.write(`dashboard screenshots: ${SCREENSHOTS}\n`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('signs in with the generated admin password and shows the live page with health', async () => {
    const { page } = admin;
    await page.goto('/');
    await shot(page, '00-sign-in');
    await page.getByLabel('User').fill('admin');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('wrong user name or password');
    await signIn(page, 'admin', adminPassword(gw.tdb.dataDir));
    await page.getByTestId('active-calls').waitFor();
    expect(await page.getByTestId('active-calls').textContent()).toMatch(/^0 \//);
    await expect(page.getByText('No calls in progress').isVisible()).resolves.toBe(true);
    await shot(page, '01-live-empty');
    // The session cookie is HttpOnly and SameSite=Strict: page scripts cannot read it.
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'gw_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).not.toContain('gw_session');
  });

  it('shows a live call as it happens, then its call page with timeline and transcript', async () => {
    const { page } = admin;
    await page.goto('/#/live');
    const call = replayCall({ carrier: 'twilio', audio: HELLO, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 1, holdMs: 60_000 });
    const row = page.locator('tr[data-call-id]');
    await row.first().waitFor({ timeout: 15_000 });
    // The current node arrives over SSE while the call runs.
    await page.locator('tr[data-call-id] td', { hasText: 'greet' }).waitFor({ timeout: 10_000 });
    await shot(page, '02-live-call');
    const callId = await row.first().getAttribute('data-call-id');
    // Open the live call: its events stream in while it runs.
    await row.first().locator('a').click();
    await page.getByTestId('live-badge').waitFor();
    await shot(page, '03-call-live');
    const result = await call;
    expect(result.callId).toBe(callId);
    await page.getByTestId('live-badge').waitFor({ state: 'detached', timeout: 15_000 });
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
    await page.reload();
    await page.getByText('call.ended').first().waitFor();
    expect(await page.getByTestId('call-status').textContent()).not.toBe('in progress');
    // The greeting the caller heard is in the transcript as a gateway bubble.
    await page.locator('.bubble.gateway').first().waitFor();
    expect(await page.locator('.bubble.gateway').first().textContent()).toContain('Hello');
    await shot(page, '04-call-page');

    await page.goto('/#/live');
    await page.getByText('No calls in progress').waitFor();
    await page.goto('/#/calls');
    await page.locator(`a[href="#/calls/${callId}"]`).waitFor();
    await shot(page, '05-calls');
  });

  it('refuses an invalid flow with the error at its node and field, deploys a valid one and draws it', async () => {
    const { page } = admin;
    await page.goto('/#/flows');
    await page.getByText('No flows deployed').waitFor();
    await shot(page, '06-flows-empty');
    await page.getByLabel('or paste the flow').fill(JSON.stringify(INVALID_FLOW, null, 2));
    await page.getByRole('button', { name: 'Deploy' }).click();
    const issues = page.getByRole('list', { name: 'Validation errors' });
    await issues.waitFor();
    const text = await issues.textContent();
    expect(text).toContain('node greet, field next');
    expect(text).toContain('menu');
    // The diagram marks the node the error names.
    await page.locator('.diagram g.node.invalid[data-node="greet"]').waitFor();
    expect(await page.locator('.diagram g.node.invalid').count()).toBe(1);
    await shot(page, '07-flow-invalid');
    // The refused deploy is the one failed request this page made.
    expect(admin.errors.splice(0)).toEqual([expect.stringMatching(/^400 POST .*\/v1\/flows$/)]);

    await page.getByLabel('or paste the flow').fill(JSON.stringify(VALID_FLOW));
    await page.getByRole('button', { name: 'Deploy' }).click();
    await page.getByRole('status').filter({ hasText: 'Deployed web-demo' }).first().waitFor();
    await page.locator('a[href="#/flows/web-demo"]').first().click();
    await page.locator('.diagram g.node[data-node="greet"]').waitFor();
    await page.locator('.diagram .edge text', { hasText: 'next' }).first().waitFor();
    await shot(page, '08-flow-diagram');
  });

  it('counts calls per exit on the diagram', async () => {
    const put = await gw.api(`/v1/numbers/${encodeURIComponent('+15005550123')}`, { method: 'PUT', body: { flowId: 'web-demo' } });
    expect(put.status).toBe(200);
    const r = await replayCall({ carrier: 'twilio', audio: HELLO, url: gw.wsUrl, publicUrl: PUBLIC_URL, speed: 10, holdMs: 60_000, to: '+15005550123' });
    expect(r.endReason).toBe('gateway-closed');
    await gw.app.gateway.settle();
    await gw.eventLog.flush();
    const exits = await gw.api('/v1/flows/web-demo/exits');
    expect(exits.body.calls).toBe(1);
    expect(exits.body.exits).toEqual(expect.arrayContaining([{ node: 'greet', exit: 'next', next: 'bye', calls: 1 }, expect.objectContaining({ node: 'bye', calls: 1 })]));
    const { page } = admin;
    // The page was left on this flow: load it afresh so it asks for the counts again.
    await page.goto('/#/flows/web-demo');
    await page.reload();
    await page.locator('.diagram .edge text', { hasText: 'next (1)' }).waitFor();
    await page.locator('.diagram g.node[data-node="greet"] text', { hasText: '1 calls' }).waitFor();
    await shot(page, '09-flow-exit-counts');
  });

  it('refuses a change made without the CSRF token, and accepts it with the token', async () => {
    const { page } = admin;
    const attempt = (withToken: boolean) =>
      page.evaluate(async (withToken) => {
        const session = (await (await fetch('/v1/auth/session')).json()) as { csrfToken: string };
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (withToken) headers['x-csrf-token'] = session.csrfToken;
        const res = await fetch('/v1/numbers/%2B15005550199', { method: 'PUT', headers, body: JSON.stringify({ flowId: 'web-demo' }) });
        return { status: res.status, body: (await res.json()) as { code?: string } };
      }, withToken);
    const refused = await attempt(false);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('GW_ERR_CSRF');
    expect((await gw.api('/v1/numbers/%2B15005550199')).status).toBe(404);
    const accepted = await attempt(true);
    expect(accepted.status).toBe(200);
  });

  it('keeps a viewer from recordings, listen-in and changes, in the UI and the API', async () => {
    const created = await gw.api('/v1/users', { body: { name: 'val', role: 'viewer', password: 'viewer-password-1' } });
    expect(created.status).toBe(201);
    const { page, context } = await newPage(browser, gw.httpUrl);
    await signIn(page, 'val', 'viewer-password-1');
    // No admin page, no deploy form, no number editing.
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    await page.goto('/#/flows');
    await page.locator('a[href="#/flows/web-demo"]').first().waitFor();
    expect(await page.getByRole('form', { name: 'Deploy a flow' }).count()).toBe(0);
    expect(await page.getByRole('form', { name: 'Route a number' }).count()).toBe(0);
    await shot(page, '10-flows-viewer');
    const { body } = await gw.api('/v1/calls?limit=1');
    await page.goto(`/#/calls/${body.calls[0].id}`);
    await page.getByText('You are not allowed to hear recordings').waitFor();
    await shot(page, '11-call-viewer');
    // The API says the same, whatever the page shows.
    const api = await page.evaluate(async (callId) => {
      const session = (await (await fetch('/v1/auth/session')).json()) as { csrfToken: string; actor: { role: string } };
      const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken };
      const deploy = await fetch('/v1/flows', { method: 'POST', headers, body: JSON.stringify({ id: 'x', start: 'a', nodes: { a: { type: 'hangup' } } }) });
      const listen = await fetch(`/v1/live/calls/${callId}/audio`);
      const users = await fetch('/v1/users');
      return { deploy: deploy.status, deployCode: ((await deploy.json()) as { code: string }).code, listen: listen.status, users: users.status, role: session.actor.role };
    }, body.calls[0].id);
    expect(api).toEqual({ deploy: 403, deployCode: 'GW_ERR_FORBIDDEN', listen: 403, users: 403, role: 'viewer' });
    await context.close();
  });

  it('lists every change in the audit log with who made it', async () => {
    const { page } = admin;
    await page.goto('/#/admin');
    const audit = page.locator('table.audit');
    await audit.waitFor();
    const text = await audit.textContent();
    expect(text).toContain('POST /v1/flows');
    expect(text).toContain('PUT /v1/numbers/:e164');
    expect(text).toContain('admin (user)');
    expect(text).toContain('API_KEY (key)');
    await shot(page, '12-admin');
  });

  it('renders the other pages and a phone-width layout without errors', async () => {
    const { page, errors } = admin;
    for (const [hash, name] of [
      ['#/campaigns', '13-campaigns'],
      ['#/analytics', '14-analytics'],
    ] as const) {
      await page.goto(`/${hash}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await shot(page, name);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/#/calls');
    await page.locator('table.calls').waitFor();
    await shot(page, '15-calls-phone');
    // No horizontal scroll of the page itself at phone width (tables scroll inside their box).
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(errors).toEqual([]);
  });
});
