// Live: calls in progress (from the tab's SSE connection) and the process's health.
import { html } from '../html.js';
import { useLive } from '../live.js';
import { Empty, fmtMs } from '../ui.js';

function Health({ health, connected }) {
  if (!health) return html`<p class="muted">${connected ? 'Waiting for health…' : 'Connecting…'}</p>`;
  return html`<dl class="stats" aria-label="Process health">
    <div><dt>Active calls</dt><dd data-testid="active-calls">${health.activeCalls} / ${health.maxConcurrentCalls}</dd></div>
    <div><dt>Event-loop delay p99</dt><dd>${health.eventLoopDelayMs.p99} ms</dd></div>
    <div><dt>Event-loop delay max</dt><dd>${health.eventLoopDelayMs.max} ms</dd></div>
    <div><dt>Memory (RSS)</dt><dd>${health.rssMb} MB</dd></div>
    <div><dt>State</dt><dd>${health.draining ? 'draining' : 'taking calls'}</dd></div>
  </dl>`;
}

export function LivePage() {
  const live = useLive();
  const calls = [...live.calls.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return html`<section>
    <h1>Live</h1>
    <${Health} health=${live.health} connected=${live.connected} />
    <h2>Calls in progress</h2>
    ${calls.length === 0
      ? html`<${Empty} title="No calls in progress">Calls appear here the moment they start. To try it, place a call with the replay client:
          <pre>npm run replay -- fixtures/speech/human_hello.wav</pre></${Empty}>`
      : html`<div class="table-wrap"><table class="calls-live">
          <thead><tr><th>Call</th><th>Direction</th><th>From → To</th><th>Flow node</th><th>AMD</th><th>Campaign</th><th>Duration</th></tr></thead>
          <tbody>
            ${calls.map((c) => html`<tr data-call-id=${c.id}>
              <td><a href=${`#/calls/${c.id}`}>${c.id.slice(0, 8)}</a></td>
              <td>${c.direction}</td>
              <td>${c.from} → ${c.to}</td>
              <td>${c.node ? html`${c.node} <span class="muted">(${c.nodeType})</span>` : '–'}${c.flowVersion ? html` <span class="muted">v${c.flowVersion}</span>` : ''}</td>
              <td>${c.amd ? html`<span title=${c.amd.reason}>${c.amd.result}</span>` : '–'}</td>
              <td>${c.campaignId ? html`<a href=${`#/campaigns/${c.campaignId}`}>${c.campaignId.slice(0, 8)}</a>` : '–'}</td>
              <td>${fmtMs(c.mediaMs)}</td>
            </tr>`)}
          </tbody>
        </table></div>`}
  </section>`;
}
