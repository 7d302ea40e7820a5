// A call page: summary, AMD verdict and reason, outcome and post-call analysis, the timeline in media
// time, the transcript as chat bubbles, the recording as a two-channel waveform with markers that
// seek the audio — and, while the call is in progress, its events as they happen and listen-in.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { html } from '../html.js';
import { useLive } from '../live.js';
import { ListenIn } from '../listenIn.js';
import { Empty, ErrorBox, fmtMs, fmtSecs, fmtTime, mayHear, useLoad } from '../ui.js';

/** Caller turns from the transcript events; gateway turns from prompts and what the agent was heard saying. */
export function transcriptOf(detail, events) {
  if (Array.isArray(detail?.transcript) && detail.transcript.length > 0) {
    return detail.transcript.map((t) => ({ who: t.speaker ?? t.role ?? t.side ?? 'caller', text: t.text ?? '', atMs: t.atMs ?? t.startMs ?? 0, cut: t.interrupted ?? t.cut ?? false }));
  }
  const turns = [];
  for (const e of events) {
    const d = e.data ?? {};
    if (e.type === 'turn.transcript' && d.text) turns.push({ who: 'caller', text: d.text, atMs: e.atMs });
    else if (e.type === 'flow.prompt' && d.text) turns.push({ who: 'gateway', text: d.text, atMs: e.atMs });
    else if (e.type === 'turn.interrupted' && d.heardText) turns.push({ who: 'gateway', text: d.heardText, atMs: e.atMs, cut: true });
    else if (e.type.startsWith('turn.') && typeof d.reply === 'string') turns.push({ who: 'gateway', text: d.reply, atMs: e.atMs });
  }
  return turns;
}

const MARKER_TYPES = { dtmf: 'DTMF', 'amd.verdict': 'AMD', beep: 'Beep', 'turn.barge_in': 'Barge-in', 'playout.cleared': 'Cleared' };
const markerLabel = (e) => {
  if (e.type === 'dtmf') return `DTMF ${e.digit ?? e.data?.digit ?? ''}`;
  if (e.type === 'amd.verdict') return `AMD: ${e.result ?? e.data?.result ?? ''}`;
  if (e.type.includes('transfer')) return 'Transfer';
  return MARKER_TYPES[e.type] ?? e.type;
};
const isMarker = (e) => e.type in MARKER_TYPES || e.type.includes('transfer');

function Waveform({ id, events }) {
  const canvas = useRef(null);
  const audio = useRef(null);
  const [state, setState] = useState({ status: 'loading' });
  useEffect(() => {
    let url;
    let cancelled = false;
    (async () => {
      const res = await fetch(`/v1/calls/${encodeURIComponent(id)}/recording?channel=both`, { credentials: 'same-origin' });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new ApiError(res.status, body);
      }
      const bytes = await res.arrayBuffer();
      url = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
      const ctx = new OfflineAudioContext(2, 8000, 8000);
      const buffer = await ctx.decodeAudioData(bytes.slice(0));
      if (!cancelled) setState({ status: 'ready', url, buffer });
    })().catch((error) => !cancelled && setState({ status: 'error', error }));
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [id]);
  useEffect(() => {
    if (state.status !== 'ready' || !canvas.current) return;
    const c = canvas.current;
    const width = (c.width = c.clientWidth * devicePixelRatio);
    const height = (c.height = 120 * devicePixelRatio);
    const g = c.getContext('2d');
    const channels = Math.min(2, state.buffer.numberOfChannels);
    const rowH = height / 2;
    for (let ch = 0; ch < channels; ch++) {
      const data = state.buffer.getChannelData(ch);
      const per = Math.max(1, Math.floor(data.length / width));
      g.fillStyle = ch === 0 ? '#2563eb' : '#16a34a';
      for (let x = 0; x < width; x++) {
        let peak = 0;
        for (let i = x * per; i < Math.min(data.length, (x + 1) * per); i++) peak = Math.max(peak, Math.abs(data[i]));
        const h = Math.max(1, peak * rowH * 0.95);
        g.fillRect(x, ch * rowH + rowH / 2 - h / 2, 1, h);
      }
    }
  }, [state]);
  if (state.status === 'loading') return html`<p class="muted">Loading the recording…</p>`;
  if (state.status === 'error') {
    const e = state.error;
    return html`<div class="notice" role="status">${e.status === 403 ? 'You are not allowed to hear recordings (ask an admin for the recordings grant).' : e.status === 404 ? 'No recording for this call (recording was off, it was deleted, or the recordings API is not deployed).' : `Recording unavailable: ${e.message}`}</div>`;
  }
  const durationMs = state.buffer.duration * 1000;
  const seek = (ms) => {
    audio.current.currentTime = ms / 1000;
    void audio.current.play();
  };
  const markers = events.filter(isMarker);
  return html`<div class="waveform">
    <div class="wave-wrap">
      <canvas ref=${canvas} aria-label="Waveform: caller (top, blue) and gateway (bottom, green)" onClick=${(e) => seek(((e.offsetX / e.currentTarget.clientWidth) * durationMs))}></canvas>
      ${markers.map((m) => html`<button class="marker" style=${`left:${Math.min(100, (m.atMs / durationMs) * 100)}%`} title=${`${markerLabel(m)} at ${fmtSecs(m.atMs)}`} onClick=${() => seek(m.atMs)}>${markerLabel(m)}</button>`)}
    </div>
    <audio ref=${audio} controls src=${state.url} data-testid="recording"></audio>
  </div>`;
}

function Timeline({ events }) {
  if (events.length === 0) return html`<p class="muted">No events.</p>`;
  return html`<div class="table-wrap timeline"><table>
    <thead><tr><th>Media time</th><th>Event</th><th>Details</th></tr></thead>
    <tbody>${events.map((e) => {
      const { type, atMs, seq, data, ...rest } = e;
      const details = { ...rest, ...(data ?? {}) };
      delete details.wallTime;
      return html`<tr><td>${fmtSecs(atMs)}</td><td>${type}</td><td class="details">${Object.entries(details).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ')}</td></tr>`;
    })}</tbody>
  </table></div>`;
}

function Transcript({ turns }) {
  if (turns.length === 0) return html`<p class="muted">Nothing was said that was transcribed (transcripts come from speech recognition; without an STT key only prompts appear).</p>`;
  return html`<ol class="chat">${turns.map((t) => html`<li class=${`bubble ${t.who === 'caller' ? 'caller' : 'gateway'}`}><span class="when">${t.who} · ${fmtSecs(t.atMs)}</span>${t.text}${t.cut ? html` <em class="muted">(cut off)</em>` : ''}</li>`)}</ol>`;
}

export function CallPage({ id, actor }) {
  const live = useLive();
  const inProgress = live.calls.has(id);
  const endedLive = live.ended.has(id);
  const { data, error } = useLoad(() => api(`/calls/${encodeURIComponent(id)}`), [id, endedLive]);
  if (error) return html`<section><h1>Call</h1><${ErrorBox} error=${error} /></section>`;
  if (!data) return html`<section><h1>Call</h1><p class="muted">Loading…</p></section>`;
  const call = data.call;
  // While the call runs, its events come over the live stream; merge the stored ones before them.
  const liveEvents = live.events.get(id) ?? [];
  const seen = new Set(data.events.map((e) => `${e.type}@${e.atMs}`));
  const events = [...data.events, ...liveEvents.filter((e) => !seen.has(`${e.type}@${e.atMs}`))];
  const amd = events.find((e) => e.type === 'amd.verdict');
  const outcome = data.outcome ?? call.outcome;
  const analysis = data.analysis ?? call.analysis;
  return html`<section>
    <p><a href="#/calls">← Calls</a></p>
    <h1>Call ${call.fromNumber} → ${call.toNumber} ${inProgress ? html`<span class="badge live" data-testid="live-badge">live</span>` : ''}</h1>
    <dl class="stats">
      <div><dt>Status</dt><dd data-testid="call-status">${inProgress ? 'in progress' : call.status}</dd></div>
      <div><dt>Direction</dt><dd>${call.direction} (${call.carrier})</dd></div>
      <div><dt>Started</dt><dd>${fmtTime(call.createdAt)}</dd></div>
      <div><dt>Duration</dt><dd>${inProgress ? fmtMs(live.calls.get(id)?.mediaMs) : call.answeredAt && call.endedAt ? fmtMs(Date.parse(call.endedAt) - Date.parse(call.answeredAt)) : '–'}</dd></div>
      <div><dt>Flow</dt><dd>${call.flowId ? html`<a href=${`#/flows/${call.flowId}`}>${call.flowId}</a> ${call.flowVersion ? `v${call.flowVersion}` : ''}` : '–'}</dd></div>
      <div><dt>End reason</dt><dd>${call.endReason ?? '–'}</dd></div>
      <div><dt>AMD</dt><dd data-testid="amd">${call.amdResult ?? amd?.result ?? '–'}${(amd?.reason ?? amd?.data?.reason) ? html`<br /><span class="muted">${amd.reason ?? amd.data.reason}</span>` : ''}</dd></div>
      <div><dt>Outcome</dt><dd>${outcome ? [outcome.category, outcome.failureReason ?? outcome.reason, outcome.disposition].filter(Boolean).join(' · ') || JSON.stringify(outcome) : '–'}</dd></div>
    </dl>
    ${analysis?.summary ? html`<h2>Summary</h2><p>${analysis.summary}</p>${analysis.sentiment ? html`<p class="muted">Sentiment: ${analysis.sentiment}</p>` : ''}` : null}
    ${inProgress && mayHear(actor) ? html`<${ListenIn} id=${id} />` : null}
    <h2>Transcript</h2>
    <${Transcript} turns=${transcriptOf(data, events)} />
    <h2>Recording</h2>
    ${inProgress
      ? html`<p class="muted">The recording is available when the call ends.</p>`
      : mayHear(actor)
        ? html`<${Waveform} id=${id} events=${events} />`
        : html`<div class="notice" role="status">You are not allowed to hear recordings (ask an admin for the recordings grant).</div>`}
    <h2>Timeline</h2>
    ${events.length === 0 ? html`<${Empty} title="No events yet">Events appear as the call runs.</${Empty}>` : html`<${Timeline} events=${events} />`}
  </section>`;
}
