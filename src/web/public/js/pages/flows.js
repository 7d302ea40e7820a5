// Flows: the deployed flows with versions, deploy (a file or pasted JSON) with validation errors shown
// at the node and field they name, a diagram with per-exit call counts for a period, and the number
// routes and departments that send calls to flows.
import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, qs } from '../api.js';
import { html } from '../html.js';
import { issueLocation, layoutFlow } from '../flowGraph.js';
import { can, Empty, ErrorBox, fmtTime, useLoad } from '../ui.js';

function Issues({ issues, kind }) {
  if (!issues?.length) return null;
  return html`<ul class=${kind === 'error' ? 'issues errors' : 'issues warnings'} aria-label=${kind === 'error' ? 'Validation errors' : 'Warnings'}>
    ${issues.map((i) => {
      const at = issueLocation(i.path);
      return html`<li>${at.node ? html`node <code class="node-ref">${at.node}</code>, field <code>${at.field}</code>: ` : html`<code>${i.path}</code>: `}${i.message}</li>`;
    })}
  </ul>`;
}

export function FlowDiagram({ definition, counts, issues = [] }) {
  const layout = useMemo(() => layoutFlow(definition), [definition]);
  const byNode = new Map();
  for (const i of issues) {
    const at = issueLocation(i.path);
    if (at.node) byNode.set(at.node, [...(byNode.get(at.node) ?? []), i]);
  }
  const countOf = (from, to, exit) => counts?.exits?.filter((c) => c.node === from && (c.next === to || c.exit === exit)).reduce((n, c) => n + c.calls, 0);
  const entered = (id) => counts?.entered?.find((e) => e.node === id)?.calls;
  if (layout.nodes.length === 0) return html`<p class="muted">No nodes to draw.</p>`;
  return html`<div class="diagram" role="img" aria-label="Flow diagram">
    <svg width=${layout.width} height=${layout.height} viewBox=${`0 0 ${layout.width} ${layout.height}`}>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b" /></marker></defs>
      ${layout.edges.map((e) => {
        const pts = e.points ?? [];
        const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
        const n = counts ? countOf(e.from, e.to, e.exit) : undefined;
        return html`<g class="edge"><path d=${d} marker-end="url(#arrow)" />
          ${e.x !== undefined ? html`<text x=${e.x} y=${e.y} text-anchor="middle">${e.exit}${n !== undefined ? ` (${n})` : ''}</text>` : ''}</g>`;
      })}
      ${layout.nodes.map((n) => {
        const bad = byNode.get(n.id);
        return html`<g class=${`node ${bad ? 'invalid' : ''} ${n.id === layout.start ? 'start' : ''}`} data-node=${n.id} transform=${`translate(${n.x - n.width / 2},${n.y - n.height / 2})`}>
          <rect width=${n.width} height=${n.height} rx="6" />
          <text x=${n.width / 2} y="18" text-anchor="middle" class="id">${n.id}</text>
          <text x=${n.width / 2} y="34" text-anchor="middle" class="type">${n.type ?? '?'}${entered(n.id) !== undefined ? ` · ${entered(n.id)} calls` : ''}</text>
          ${bad ? html`<title>${bad.map((i) => `${issueLocation(i.path).field}: ${i.message}`).join('\n')}</title>` : ''}
        </g>`;
      })}
    </svg>
  </div>`;
}

function Deploy({ onDeployed }) {
  const [text, setText] = useState('');
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  let parsed;
  try {
    parsed = text.trim() === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = null;
  }
  const deploy = async (e) => {
    e.preventDefault();
    if (parsed === null) return setResult({ error: 'The text is not valid JSON.' });
    setBusy(true);
    try {
      const saved = await api('/flows', { method: 'POST', body: parsed });
      setResult({ saved });
      onDeployed(saved);
    } catch (err) {
      setResult(err instanceof ApiError && err.body?.errors ? { issues: err.body.errors, warnings: err.body.warnings } : { error: err.message });
    } finally {
      setBusy(false);
    }
  };
  const onFile = async (e) => {
    const file = e.currentTarget.files?.[0];
    if (file) setText(await file.text());
  };
  return html`<form class="deploy" onSubmit=${deploy} aria-label="Deploy a flow">
    <h2>Deploy a flow</h2>
    <label>JSON file <input type="file" accept="application/json,.json" onChange=${onFile} /></label>
    <label>or paste the flow <textarea name="flow" rows="10" value=${text} onInput=${(e) => setText(e.currentTarget.value)} placeholder='{"id": "my-flow", "start": "hello", "nodes": {"hello": {"type": "say", "text": "Hi", "next": "bye"}, "bye": {"type": "hangup"}}}'></textarea></label>
    <button type="submit" disabled=${busy || text.trim() === ''}>Deploy</button>
    ${result?.error ? html`<div class="error" role="alert">${result.error}</div>` : null}
    ${result?.saved ? html`<div class="ok" role="status">Deployed <a href=${`#/flows/${result.saved.id}`}>${result.saved.id}</a> version ${result.saved.version}${result.saved.created ? '' : ' (identical to the latest; nothing stored)'}.</div><${Issues} issues=${result.saved.warnings} kind="warning" />` : null}
    ${result?.issues ? html`<div class="error" role="alert">The flow was not deployed: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}.</div>
      <${Issues} issues=${result.issues} kind="error" /><${Issues} issues=${result.warnings} kind="warning" />
      ${parsed ? html`<${FlowDiagram} definition=${parsed} issues=${result.issues} />` : null}` : null}
  </form>`;
}

function Numbers({ actor, flows }) {
  const { data, error, reload } = useLoad(() => api('/numbers'), []);
  const [msg, setMsg] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.currentTarget));
    try {
      await api(`/numbers/${encodeURIComponent(f.e164)}`, { method: 'PUT', body: { flowId: f.flowId, ...(f.version ? { version: Number(f.version) } : {}) } });
      setMsg({ ok: `${f.e164} now runs ${f.flowId}` });
      reload();
    } catch (err) {
      setMsg({ error: err.message });
    }
  };
  const remove = async (e164) => {
    try {
      await api(`/numbers/${encodeURIComponent(e164)}`, { method: 'DELETE' });
      reload();
    } catch (err) {
      setMsg({ error: err.message });
    }
  };
  return html`<section aria-labelledby="numbers-h"><h2 id="numbers-h">Number routes</h2>
    <${ErrorBox} error=${error} />
    ${data?.numbers?.length === 0 ? html`<p class="muted">No number routes: every call runs the default flow. Route a number below.</p>` : null}
    ${data?.numbers?.length ? html`<div class="table-wrap"><table><thead><tr><th>Number</th><th>Flow</th><th>Version</th><th></th></tr></thead><tbody>
      ${data.numbers.map((n) => html`<tr><td>${n.e164}</td><td>${n.flowId}</td><td>${n.version ?? 'latest'}</td><td>${can(actor, 'supervisor') ? html`<button class="link" onClick=${() => remove(n.e164)}>Remove</button>` : ''}</td></tr>`)}
    </tbody></table></div>` : null}
    ${can(actor, 'supervisor') ? html`<form class="inline" onSubmit=${save} aria-label="Route a number">
      <label>Number <input name="e164" required placeholder="+14155550100" pattern="\\+[1-9][0-9]{6,14}" /></label>
      <label>Flow <select name="flowId" required>${flows.map((f) => html`<option>${f.id}</option>`)}</select></label>
      <label>Version <input name="version" type="number" min="1" placeholder="latest" size="6" /></label>
      <button type="submit">Save route</button></form>` : null}
    ${msg?.ok ? html`<div class="ok" role="status">${msg.ok}</div>` : msg?.error ? html`<div class="error" role="alert">${msg.error}</div>` : null}
  </section>`;
}

function Departments({ actor }) {
  const { data, error, reload } = useLoad(() => api('/departments'), []);
  const [msg, setMsg] = useState(null);
  const [editing, setEditing] = useState('');
  const save = async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.currentTarget));
    try {
      const body = JSON.parse(f.definition);
      await api(`/departments/${encodeURIComponent(f.name)}`, { method: 'PUT', body });
      setMsg({ ok: `Department ${f.name} saved` });
      reload();
    } catch (err) {
      setMsg({ error: err instanceof SyntaxError ? 'definition: not valid JSON' : err.message });
    }
  };
  return html`<section aria-labelledby="dept-h"><h2 id="dept-h">Departments</h2>
    <${ErrorBox} error=${error} />
    ${data?.departments?.length === 0 ? html`<p class="muted">No departments. A department names the numbers a transfer rings, its business hours and what happens outside them.</p>` : null}
    ${data?.departments?.length ? html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Numbers</th><th>Time zone</th><th>Outside hours</th><th></th></tr></thead><tbody>
      ${data.departments.map((d) => {
        const { name, updatedAt, ...definition } = d;
        return html`<tr><td>${name}</td><td>${(d.numbers ?? []).join(', ')}</td><td>${d.timeZone ?? '–'}</td><td>${d.outsideHours ? Object.entries(d.outsideHours).map(([k, v]) => `${k}: ${v}`).join(', ') : '–'}</td>
          <td>${can(actor, 'supervisor') ? html`<button class="link" onClick=${() => setEditing(JSON.stringify({ name, definition }))}>Edit</button>` : ''}</td></tr>`;
      })}
    </tbody></table></div>` : null}
    ${can(actor, 'supervisor') ? html`<form class="deploy" onSubmit=${save} aria-label="Save a department" key=${editing}>
      <label>Name <input name="name" required value=${editing ? JSON.parse(editing).name : ''} /></label>
      <label>Definition (JSON: numbers, timeZone, hours, closedDates, outsideHours)
        <textarea name="definition" rows="6" value=${editing ? JSON.stringify(JSON.parse(editing).definition, null, 2) : '{\n  "numbers": ["+14155550100"],\n  "timeZone": "America/New_York",\n  "hours": {"mon": ["09:00-17:00"]},\n  "outsideHours": {"text": "We are closed."}\n}'}></textarea></label>
      <button type="submit">Save department</button></form>` : null}
    ${msg?.ok ? html`<div class="ok" role="status">${msg.ok}</div>` : msg?.error ? html`<div class="error" role="alert">${msg.error}</div>` : null}
  </section>`;
}

export function FlowsPage({ actor }) {
  const { data, error, reload } = useLoad(() => api('/flows'), []);
  const flows = data?.flows ?? [];
  return html`<section>
    <h1>Flows</h1>
    <${ErrorBox} error=${error} />
    ${data && flows.length === 0 ? html`<${Empty} title="No flows deployed">Calls run the built-in default flow. Deploy one below, e.g. the file <code>flows/ivr-menu.json</code>.</${Empty}>` : null}
    ${flows.length ? html`<div class="table-wrap"><table><thead><tr><th>Flow</th><th>Name</th><th>Latest version</th><th>Versions</th><th>Updated</th></tr></thead><tbody>
      ${flows.map((f) => html`<tr><td><a href=${`#/flows/${f.id}`}>${f.id}</a></td><td>${f.name ?? '–'}</td><td>${f.latestVersion}</td><td>${f.versions}</td><td>${fmtTime(f.updatedAt)}</td></tr>`)}
    </tbody></table></div>` : null}
    ${can(actor, 'supervisor') ? html`<${Deploy} onDeployed=${reload} />` : null}
    <${Numbers} actor=${actor} flows=${flows} />
    <${Departments} actor=${actor} />
  </section>`;
}

const PERIODS = { '1': 'last 24 hours', '7': 'last 7 days', '30': 'last 30 days' };

export function FlowPage({ id }) {
  const [version, setVersion] = useState(undefined);
  const [days, setDays] = useState('7');
  const versions = useLoad(() => api(`/flows/${encodeURIComponent(id)}/versions`), [id]);
  const flow = useLoad(() => api(`/flows/${encodeURIComponent(id)}${qs({ version })}`), [id, version]);
  const counts = useLoad(() => api(`/flows/${encodeURIComponent(id)}/exits${qs({ version, since: new Date(Date.now() - Number(days) * 864e5).toISOString() })}`), [id, version, days]);
  return html`<section>
    <p><a href="#/flows">← Flows</a></p>
    <h1>Flow ${id}</h1>
    <${ErrorBox} error=${flow.error ?? versions.error} />
    <div class="inline">
      <label>Version <select onChange=${(e) => setVersion(e.currentTarget.value || undefined)}>
        <option value="">latest</option>${(versions.data?.versions ?? []).map((v) => html`<option value=${v.version}>v${v.version} · ${fmtTime(v.createdAt)}</option>`)}
      </select></label>
      <label>Calls over <select value=${days} onChange=${(e) => setDays(e.currentTarget.value)}>${Object.entries(PERIODS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select></label>
      ${counts.data ? html`<span class="muted">${counts.data.calls} call${counts.data.calls === 1 ? '' : 's'} in the period; exit labels show (calls)</span>` : null}
    </div>
    ${flow.data ? html`<${FlowDiagram} definition=${flow.data.definition} counts=${counts.data} />
      <details><summary>Definition (v${flow.data.version})</summary><pre>${JSON.stringify(flow.data.definition, null, 2)}</pre></details>` : null}
  </section>`;
}
