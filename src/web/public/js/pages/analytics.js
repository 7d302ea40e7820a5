// Analytics: success rate and volume over time, volume by hour of day, failure reasons, AMD outcomes,
// agent latency percentiles, for a date range in a time zone; export buttons for CSV and JSON lines.
// Built on /v1/analytics/*; shapes are read defensively (unknown fields ignored).
import { useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { html } from '../html.js';
import { Empty, ErrorBox, fmtPct, fmtSecs, useLoad } from '../ui.js';
import { LineChart } from './charts.js';

const dayStart = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
const num = (v) => (typeof v === 'number' ? v : Number(v ?? 0));
const entries = (v) => (Array.isArray(v) ? v.map((x) => [x.reason ?? x.name ?? x.key ?? x.result ?? '?', num(x.count ?? x.calls)]) : v && typeof v === 'object' ? Object.entries(v).map(([k, x]) => [k, num(typeof x === 'object' ? (x.count ?? x.calls) : x)]) : []);

function Bars({ title, rows }) {
  if (rows.length === 0) return html`<p class="muted">${title}: none in this period.</p>`;
  const max = Math.max(...rows.map(([, n]) => n), 1);
  return html`<figure class="bars" aria-label=${title}><figcaption>${title}</figcaption>
    ${rows.map(([k, n]) => html`<div class="bar-row"><span class="k">${k}</span><span class="bar" style=${`width:${(n / max) * 100}%`}></span><span class="n">${n}</span></div>`)}
  </figure>`;
}

export function AnalyticsPage() {
  const today = dayStart(new Date());
  const [range, setRange] = useState({ since: isoDate(new Date(today.getTime() - 6 * 864e5)), until: isoDate(today), tz: Intl.DateTimeFormat().resolvedOptions().timeZone, bucket: 'day' });
  const params = { since: new Date(`${range.since}T00:00:00`).toISOString(), until: new Date(new Date(`${range.until}T00:00:00`).getTime() + 864e5).toISOString(), tz: range.tz };
  const key = JSON.stringify(range);
  const summary = useLoad(() => api(`/analytics/summary${qs(params)}`), [key]);
  const volume = useLoad(() => api(`/analytics/volume${qs({ ...params, bucket: range.bucket })}`), [key]);
  const latency = useLoad(() => api(`/analytics/latency${qs(params)}`), [key]);
  const apply = (e) => {
    e.preventDefault();
    setRange(Object.fromEntries(new FormData(e.currentTarget)));
  };
  const s = summary.data ?? {};
  const buckets = volume.data?.buckets ?? volume.data?.volume ?? [];
  const byHour = volume.data?.byHourOfDay ?? volume.data?.hourOfDay ?? [];
  const exportHref = (format) => `/v1/calls/export${qs({ ...params, format })}`;
  return html`<section>
    <h1>Analytics</h1>
    <form class="filters" onSubmit=${apply} aria-label="Period">
      <label>From <input type="date" name="since" value=${range.since} /></label>
      <label>To <input type="date" name="until" value=${range.until} /></label>
      <label>Time zone <input name="tz" value=${range.tz} size="18" /></label>
      <label>Bucket <select name="bucket" value=${range.bucket}><option value="hour">hour</option><option value="day">day</option></select></label>
      <button type="submit">Apply</button>
      <a class="button" href=${exportHref('csv')} download>Export CSV</a>
      <a class="button" href=${exportHref('jsonl')} download>Export JSON lines</a>
    </form>
    <${ErrorBox} error=${summary.error} />
    ${summary.data && num(s.calls) === 0 ? html`<${Empty} title="No calls in this period">Widen the dates, or make calls with <code>npm run replay -- fixtures/speech/human_hello.wav</code>.</${Empty}>` : null}
    ${summary.data ? html`<dl class="stats">
      <div><dt>Calls</dt><dd>${num(s.calls)}</dd></div>
      <div><dt>Answered</dt><dd>${num(s.answered)}</dd></div>
      <div><dt>Success rate</dt><dd>${fmtPct(s.successRate)}</dd></div>
      <div><dt>Duration p50 / p95</dt><dd>${fmtSecs(s.durationMs?.p50 ?? s.p50DurationMs)} / ${fmtSecs(s.durationMs?.p95 ?? s.p95DurationMs)}</dd></div>
      <div><dt>Transfer rate</dt><dd>${fmtPct(s.transferRate)}</dd></div>
      <div><dt>Abandoned rate</dt><dd>${fmtPct(s.abandonedRate)}</dd></div>
    </dl>
    <div class="charts">
      <${Bars} title="Failure reasons" rows=${entries(s.failureReasons)} />
      <${Bars} title="AMD outcomes" rows=${entries(s.amd?.outcomes ?? s.amd ?? s.amdOutcomes)} />
    </div>` : null}
    <${ErrorBox} error=${volume.error} />
    ${buckets.length > 0 ? html`<${LineChart} title="Volume and success rate" x=${buckets.map((b) => Date.parse(b.start ?? b.bucket ?? b.t) / 1000)} series=${[{ label: 'calls', values: buckets.map((b) => num(b.calls)) }, { label: 'success %', values: buckets.map((b) => num(b.successRate) * 100) }]} />` : null}
    ${byHour.length > 0 ? html`<${LineChart} title=${`Calls by hour of day (${range.tz})`} bars=${true} categories=${byHour.map((b) => String(b.hour))} x=${byHour.map((_b, i) => i)} series=${[{ label: 'calls', values: byHour.map((b) => num(b.calls)) }, { label: 'answered', values: byHour.map((b) => num(b.answered)) }]} />` : null}
    <h2>Agent latency</h2>
    <${ErrorBox} error=${latency.error} />
    ${latency.data ? html`<div class="table-wrap"><table><thead><tr><th>Group</th><th>Measure</th><th>p50</th><th>p95</th><th>n</th></tr></thead><tbody>
      ${(latency.data.groups ?? latency.data.rows ?? latency.data.flows ?? []).flatMap((g) => Object.entries(g.metrics ?? g).filter(([, v]) => v && typeof v === 'object' && 'p50' in v).map(([m, v]) => html`<tr><td>${g.flowId ?? g.provider ?? g.group ?? 'all'}</td><td>${m}</td><td>${v.p50} ms</td><td>${v.p95} ms</td><td>${v.count ?? v.n ?? '–'}</td></tr>`))}
    </tbody></table></div>` : null}
  </section>`;
}
