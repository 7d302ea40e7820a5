// Calls: history with filters and paging over GET /v1/calls.
import { useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { html } from '../html.js';
import { Empty, ErrorBox, fmtTime, useLoad } from '../ui.js';

const toIso = (local) => (local ? new Date(local).toISOString() : undefined);
const duration = (c) => (c.answeredAt && c.endedAt ? `${Math.round((Date.parse(c.endedAt) - Date.parse(c.answeredAt)) / 1000)} s` : '–');

export function CallsPage() {
  const [filters, setFilters] = useState({});
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const { data, error, loading } = useLoad(
    () =>
      api(`/calls${qs({ limit: 25, cursor, direction: filters.direction, number: filters.number, status: filters.status, since: toIso(filters.since), until: toIso(filters.until) })}`),
    [JSON.stringify(filters), cursor],
  );
  const apply = (e) => {
    e.preventDefault();
    setFilters(Object.fromEntries(new FormData(e.currentTarget)));
    setCursors([undefined]);
  };
  // Flow and campaign are filtered on the page (the list API filters by number, direction, status, dates).
  const calls = (data?.calls ?? []).filter(
    (c) => (!filters.flowId || c.flowId === filters.flowId) && (!filters.campaignId || (c.campaignId ?? c.metadata?.campaignId) === filters.campaignId),
  );
  return html`<section>
    <h1>Calls</h1>
    <form class="filters" onSubmit=${apply} aria-label="Filter calls">
      <label>From <input type="datetime-local" name="since" /></label>
      <label>To <input type="datetime-local" name="until" /></label>
      <label>Number <input name="number" placeholder="+15005550006" /></label>
      <label>Direction <select name="direction"><option value="">any</option><option>inbound</option><option>outbound</option></select></label>
      <label>Status <select name="status"><option value="">any</option>${['completed', 'in-progress', 'ringing', 'busy', 'no-answer', 'failed', 'canceled'].map((s) => html`<option>${s}</option>`)}</select></label>
      <label>Flow <input name="flowId" size="10" /></label>
      <label>Campaign <input name="campaignId" size="10" /></label>
      <button type="submit">Filter</button>
    </form>
    <${ErrorBox} error=${error} />
    ${loading && !data ? html`<p class="muted">Loading…</p>` : null}
    ${data && calls.length === 0
      ? html`<${Empty} title=${cursors.length > 1 || Object.values(filters).some(Boolean) ? 'No calls match' : 'No calls yet'}>
          Try <code>npm run replay -- fixtures/speech/human_hello.wav</code> with the gateway running, or widen the filters.</${Empty}>`
      : null}
    ${calls.length > 0
      ? html`<div class="table-wrap"><table class="calls">
          <thead><tr><th>Started</th><th>Direction</th><th>From</th><th>To</th><th>Status</th><th>Outcome</th><th>AMD</th><th>Flow</th><th>Duration</th></tr></thead>
          <tbody>${calls.map((c) => html`<tr>
            <td><a href=${`#/calls/${c.id}`}>${fmtTime(c.createdAt)}</a></td>
            <td>${c.direction}</td><td>${c.fromNumber}</td><td>${c.toNumber}</td><td>${c.status}</td>
            <td>${c.outcome?.category ?? c.outcome ?? c.endReason ?? '–'}</td>
            <td>${c.amdResult ?? '–'}</td><td>${c.flowId ?? '–'}</td><td>${duration(c)}</td>
          </tr>`)}</tbody>
        </table></div>`
      : null}
    <div class="pager">
      <button disabled=${cursors.length <= 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Newer</button>
      <button disabled=${!data?.nextCursor} onClick=${() => setCursors([...cursors, data.nextCursor])}>Older</button>
    </div>
  </section>`;
}
