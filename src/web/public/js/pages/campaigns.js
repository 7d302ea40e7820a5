// Campaigns: list and create; a campaign page with CSV upload (preview of the first rows, then the
// import report), pacing/retries/window/voicemail settings, start/pause/resume/stop/skip, and live
// figures from the campaign's SSE stats stream. Built on /v1/campaigns; unknown fields are ignored.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { can, Empty, ErrorBox, fmtPct, fmtTime, useLoad } from '../ui.js';
import { LineChart } from './charts.js';
import { ReviewQueue } from './review.js';

const ACTIONS = { draft: ['start'], running: ['pause', 'stop', 'skip'], paused: ['resume', 'stop', 'skip'] };

function CreateCampaign({ onCreated, flows }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.currentTarget));
    try {
      const c = await api('/campaigns', {
        method: 'POST',
        body: {
          name: f.name,
          flowId: f.flowId,
          ...(f.flowVersion ? { flowVersion: Number(f.flowVersion) } : {}),
          callerIds: [f.callerId],
          voicemailPolicy: f.voicemailPolicy,
          amd: { hangupConfidence: Number(f.hangupConfidence), dropMessage: f.dropMessage.trim() === '' ? null : f.dropMessage.trim() },
          pacing: { maxConcurrent: Number(f.maxConcurrent), callsPerMinute: Number(f.callsPerMinute), callsPerHour: Number(f.callsPerHour) },
        },
      });
      onCreated(c.campaign ?? c);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="deploy" onSubmit=${submit} aria-label="Create a campaign"><h2>New campaign</h2>
    <div class="grid">
      <label>Name <input name="name" required /></label>
      <label>Flow <select name="flowId" required>${flows.map((f) => html`<option>${f.id}</option>`)}</select></label>
      <label>Flow version <input name="flowVersion" type="number" min="1" placeholder="latest at start" /></label>
      <label>Caller ID <input name="callerId" required pattern="\\+[1-9][0-9]{6,14}" title="E.164, e.g. +14155550100" placeholder="+14155550100" /></label>
      <label>Voicemail <select name="voicemailPolicy"><option value="hangup">hang up, retry later</option><option value="drop">leave a message after the beep</option><option value="continue">continue the flow</option></select></label>
      <label>Hang up at AMD confidence ≥ <input name="hangupConfidence" type="number" min="0" max="1" step="0.05" value="0.9" /></label>
      <label>Voicemail message <textarea name="dropMessage" rows="2" maxlength="1000" placeholder="said after the beep when a machine answers and the verdict is unsure (empty: the flow's voicemail branch)"></textarea></label>
      <label>Max concurrent <input name="maxConcurrent" type="number" min="1" value="5" /></label>
      <label>Calls / minute <input name="callsPerMinute" type="number" min="1" value="10" /></label>
      <label>Calls / hour <input name="callsPerHour" type="number" min="1" value="200" /></label>
    </div>
    <button type="submit">Create</button>
    ${error && html`<div class="error" role="alert">${error}</div>`}
  </form>`;
}

export function CampaignsPage({ actor }) {
  const { data, error, reload } = useLoad(() => api('/campaigns'), []);
  const flows = useLoad(() => api('/flows'), []);
  const list = data?.campaigns ?? (Array.isArray(data) ? data : []);
  return html`<section>
    <h1>Campaigns</h1>
    <${ErrorBox} error=${error} />
    ${data && list.length === 0 ? html`<${Empty} title="No campaigns yet">Create one below, upload a CSV of contacts (a <code>phone</code> column, optional <code>name</code>, <code>priority</code>, <code>timezone</code>), then start it.</${Empty}>` : null}
    ${list.length ? html`<div class="table-wrap"><table><thead><tr><th>Campaign</th><th>State</th><th>Flow</th><th>Created</th></tr></thead><tbody>
      ${list.map((c) => html`<tr><td><a href=${`#/campaigns/${c.id}`}>${c.name ?? c.id}</a></td><td>${c.state ?? c.status}</td><td>${c.flowId ?? '–'}</td><td>${fmtTime(c.createdAt)}</td></tr>`)}
    </tbody></table></div>` : null}
    ${!error && can(actor, 'supervisor') ? html`<${CreateCampaign} flows=${flows.data?.flows ?? []} onCreated=${(c) => { location.hash = `#/campaigns/${c.id}`; reload(); }} />` : null}
  </section>`;
}

function Upload({ id, onImported }) {
  const [preview, setPreview] = useState(null);
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  const [file, setFile] = useState(null);
  const pick = async (e) => {
    const f = e.currentTarget.files?.[0];
    setReport(null);
    setFile(f ?? null);
    if (!f) return setPreview(null);
    // Only the head is read for the preview; the whole file is streamed to the server on import.
    const head = await f.slice(0, 8192).text();
    setPreview(head.split(/\r?\n/).slice(0, 6).map((l) => l.split(',')));
  };
  const upload = async () => {
    setError(null);
    try {
      const r = await api(`/campaigns/${encodeURIComponent(id)}/contacts`, { method: 'POST', raw: file, headers: { 'content-type': 'text/csv' } });
      setReport(r);
      onImported();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<section aria-labelledby="upload-h"><h2 id="upload-h">Contacts</h2>
    <label>CSV file <input type="file" accept=".csv,text/csv" onChange=${pick} data-testid="csv" /></label>
    ${preview ? html`<div class="table-wrap"><table class="preview" aria-label="First rows of the file">${preview.map((row, i) => html`<tr>${row.map((c) => (i === 0 ? html`<th>${c}</th>` : html`<td>${c}</td>`))}</tr>`)}</table></div>
      <button onClick=${upload}>Import</button>` : null}
    ${error && html`<div class="error" role="alert">${error}</div>`}
    ${report ? html`<div class="ok" role="status" data-testid="import-report">Accepted ${report.accepted ?? 0}, invalid ${report.invalid ?? 0}, duplicates ${report.duplicate ?? 0}, do-not-call ${report.doNotCall ?? 0}.</div>
      ${report.timezoneSources ? html`<p class="muted">Time zones: ${Object.entries(report.timezoneSources).map(([k, v]) => `${k}: ${v}`).join(', ')}</p>` : null}
      ${report.problems?.length ? html`<ul class="issues errors">${report.problems.map((p) => html`<li>line ${p.line}: ${p.reason}</li>`)}</ul>` : null}` : null}
  </section>`;
}

function useStats(id) {
  const [stats, setStats] = useState(null);
  const [history, setHistory] = useState([]);
  useEffect(() => {
    api(`/campaigns/${encodeURIComponent(id)}/stats`).then(setStats, () => undefined);
    const source = new EventSource(`/v1/campaigns/${encodeURIComponent(id)}/stats/stream`);
    source.addEventListener('stats', (e) => {
      const s = JSON.parse(e.data);
      setStats(s);
      setHistory((h) => [...h.slice(-119), { t: Date.now() / 1000, dialsPerMinute: s.dialsPerMinute ?? 0, abandonedRate: s.abandonedRate ?? 0 }]);
    });
    return () => source.close();
  }, [id]);
  return { stats, history };
}

export function CampaignPage({ id, actor }) {
  const { data, error, reload } = useLoad(() => api(`/campaigns/${encodeURIComponent(id)}`), [id]);
  const { stats, history } = useStats(id);
  const [msg, setMsg] = useState(null);
  const c = data?.campaign ?? data;
  const act = async (action) => {
    try {
      await api(`/campaigns/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: {} });
      setMsg({ ok: `${action}: done` });
      reload();
    } catch (err) {
      setMsg({ error: err.message });
    }
  };
  const useLatest = async () => {
    try {
      const updated = await api(`/campaigns/${encodeURIComponent(id)}`, { method: 'PATCH', body: { flowVersion: null } });
      setMsg({ ok: `now dialing ${updated.flowId} v${updated.flowVersion ?? 'latest'}` });
      reload();
    } catch (err) {
      setMsg({ error: err.message });
    }
  };
  const state = c?.state ?? c?.status;
  return html`<section>
    <p><a href="#/campaigns">← Campaigns</a></p>
    <h1>Campaign ${c?.name ?? id}</h1>
    <${ErrorBox} error=${error} />
    ${c ? html`<dl class="stats">
      <div><dt>State</dt><dd data-testid="campaign-state">${state}</dd></div>
      <div><dt>Flow</dt><dd data-testid="campaign-flow">${c.flowId ?? '–'} ${c.flowVersion ? `v${c.flowVersion}` : state === 'draft' ? '(pinned at start)' : '(latest)'}</dd></div>
      <div><dt>Voicemail</dt><dd data-testid="campaign-voicemail">${c.voicemailPolicy ?? '–'}${c.amd ? ` · hang up at confidence ≥ ${c.amd.hangupConfidence}${c.amd.dropMessage ? ' · leaves a message when unsure' : ''}` : ''}</dd></div>
      <div><dt>Pacing</dt><dd>${c.pacing ? Object.entries(c.pacing).map(([k, v]) => `${k} ${v}`).join(', ') : '–'}</dd></div>
    </dl>
    ${can(actor, 'supervisor') ? html`<div class="actions" role="group" aria-label="Campaign controls">${(ACTIONS[state] ?? []).map((a) => html`<button onClick=${() => act(a)}>${a[0].toUpperCase() + a.slice(1)}</button>`)}
      ${state === 'running' || state === 'paused' ? html`<button onClick=${useLatest} title="A redeploy of the flow does not change a running campaign until you ask">Use the latest flow version</button>` : null}</div>` : null}
    ${msg?.ok ? html`<div class="ok" role="status">${msg.ok}</div>` : msg?.error ? html`<div class="error" role="alert">${msg.error}</div>` : null}
    ${stats ? html`<h2>Live figures</h2><dl class="stats">
      <div><dt>Dials / min</dt><dd>${stats.dialsPerMinute ?? '–'}</dd></div>
      <div><dt>In flight</dt><dd>${stats.inFlight ?? '–'}</dd></div>
      <div><dt>Answer rate</dt><dd>${fmtPct(stats.answerRate)}</dd></div>
      <div><dt>Human rate</dt><dd>${fmtPct(stats.humanRate)}</dd></div>
      <div><dt>Voicemail rate</dt><dd>${fmtPct(stats.voicemailRate)}</dd></div>
      <div><dt>Abandoned (30 d)</dt><dd>${fmtPct(stats.abandonedRate)}${stats.abandonedLimit !== undefined ? ` of ${fmtPct(stats.abandonedLimit)} limit` : ''}</dd></div>
    </dl>
    ${stats.attemptsByOutcome ? html`<p>Outcomes: ${Object.entries(stats.attemptsByOutcome).map(([k, v]) => `${k} ${v}`).join(' · ')}</p>` : null}
    ${history.length > 1 ? html`<${LineChart} title="Dials per minute and abandoned rate" x=${history.map((h) => h.t)} series=${[{ label: 'dials/min', values: history.map((h) => h.dialsPerMinute) }, { label: 'abandoned %', values: history.map((h) => h.abandonedRate * 100) }]} />` : null}` : null}
    <${ReviewQueue} id=${id} actor=${actor} />
    ${can(actor, 'supervisor') ? html`<${Upload} id=${id} onImported=${reload} />` : null}` : null}
  </section>`;
}
