// Admin: operators (create, role, recordings grant, disable, reset password), API keys with roles,
// and the audit log (supervisors see the audit log only).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { can, ErrorBox, fmtTime, useLoad } from '../ui.js';

const ROLES = ['viewer', 'supervisor', 'admin'];

function Message({ msg }) {
  if (!msg) return null;
  return msg.error ? html`<div class="error" role="alert">${msg.error}</div>` : html`<div class="ok" role="status">${msg.ok}</div>`;
}

function Users() {
  const { data, error, reload } = useLoad(() => api('/users'), []);
  const [msg, setMsg] = useState(null);
  const run = async (fn, ok) => {
    try {
      await fn();
      setMsg({ ok });
      reload();
    } catch (err) {
      setMsg({ error: err.message });
    }
  };
  const create = (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.currentTarget));
    void run(() => api('/users', { method: 'POST', body: { name: f.name, role: f.role, password: f.password, recordings: f.recordings === 'on' } }), `User ${f.name} created`);
  };
  return html`<section aria-labelledby="users-h"><h2 id="users-h">Users</h2>
    <${ErrorBox} error=${error} />
    ${data ? html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Role</th><th>Recordings</th><th>State</th><th>Created</th></tr></thead><tbody>
      ${data.users.map((u) => html`<tr>
        <td>${u.name}</td>
        <td><select aria-label=${`Role of ${u.name}`} value=${u.role} onChange=${(e) => run(() => api(`/users/${u.id}`, { method: 'PATCH', body: { role: e.currentTarget.value } }), `${u.name} is now ${e.currentTarget.value}`)}>${ROLES.map((r) => html`<option>${r}</option>`)}</select></td>
        <td><input type="checkbox" aria-label=${`${u.name} may hear recordings`} checked=${u.recordings || u.role !== 'viewer'} disabled=${u.role !== 'viewer'} onChange=${(e) => run(() => api(`/users/${u.id}`, { method: 'PATCH', body: { recordings: e.currentTarget.checked } }), 'Saved')} /></td>
        <td><button class="link" onClick=${() => run(() => api(`/users/${u.id}`, { method: 'PATCH', body: { disabled: !u.disabled } }), u.disabled ? `${u.name} enabled` : `${u.name} disabled`)}>${u.disabled ? 'Enable' : 'Disable'}</button></td>
        <td>${fmtTime(u.createdAt)}</td>
      </tr>`)}
    </tbody></table></div>` : null}
    <form class="inline" onSubmit=${create} aria-label="Create a user">
      <label>Name <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}" /></label>
      <label>Role <select name="role">${ROLES.map((r) => html`<option>${r}</option>`)}</select></label>
      <label>Password <input name="password" type="password" minlength="10" required autocomplete="new-password" /></label>
      <label><input name="recordings" type="checkbox" /> may hear recordings</label>
      <button type="submit">Create user</button>
    </form>
    <${Message} msg=${msg} />
  </section>`;
}

function Keys() {
  const { data, error, reload } = useLoad(() => api('/keys'), []);
  const [msg, setMsg] = useState(null);
  const create = async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.currentTarget));
    try {
      const r = await api('/keys', { method: 'POST', body: { name: f.name, role: f.role, recordings: f.recordings === 'on' } });
      setMsg({ ok: html`Key created. Copy it now, it is not shown again: <code class="secret">${r.key}</code>` });
      reload();
    } catch (err) {
      setMsg({ error: err.message });
    }
  };
  const revoke = async (k) => {
    try {
      await api(`/keys/${k.id}`, { method: 'DELETE' });
      setMsg({ ok: `Key ${k.name} revoked` });
      reload();
    } catch (err) {
      setMsg({ error: err.message });
    }
  };
  return html`<section aria-labelledby="keys-h"><h2 id="keys-h">API keys</h2>
    <p class="muted">The deployment's own key (<code>API_KEY</code> or <code>data/api-key</code>) is always admin. Keys made here carry the role you give them.</p>
    <${ErrorBox} error=${error} />
    ${data?.keys?.length ? html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Role</th><th>Created</th><th>By</th><th></th></tr></thead><tbody>
      ${data.keys.map((k) => html`<tr><td>${k.name}</td><td>${k.role}</td><td>${fmtTime(k.createdAt)}</td><td>${k.createdBy ?? '–'}</td><td>${k.revokedAt ? `revoked ${fmtTime(k.revokedAt)}` : html`<button class="link" onClick=${() => revoke(k)}>Revoke</button>`}</td></tr>`)}
    </tbody></table></div>` : null}
    <form class="inline" onSubmit=${create} aria-label="Create an API key">
      <label>Name <input name="name" required /></label>
      <label>Role <select name="role">${ROLES.map((r) => html`<option>${r}</option>`)}</select></label>
      <label><input name="recordings" type="checkbox" /> may hear recordings</label>
      <button type="submit">Create key</button>
    </form>
    <${Message} msg=${msg} />
  </section>`;
}

function Audit() {
  const [before, setBefore] = useState([undefined]);
  const { data, error } = useLoad(() => api(`/audit?limit=50${before.at(-1) ? `&before=${before.at(-1)}` : ''}`), [before.length]);
  return html`<section aria-labelledby="audit-h"><h2 id="audit-h">Audit log</h2>
    <${ErrorBox} error=${error} />
    ${data?.events?.length === 0 ? html`<p class="muted">No changes recorded yet. Every change made through the API (flow deploys, routes, campaigns, users) appears here with who made it.</p>` : null}
    ${data?.events?.length ? html`<div class="table-wrap"><table class="audit"><thead><tr><th>When</th><th>Who</th><th>Change</th><th>Target</th><th>Status</th></tr></thead><tbody>
      ${data.events.map((e) => html`<tr><td>${fmtTime(e.at)}</td><td>${e.actor.name} <span class="muted">(${e.actor.kind})</span></td><td><code>${e.method} ${e.route}</code></td><td>${Object.entries(e.target).map(([k, v]) => `${k}=${v}`).join(', ')}</td><td>${e.status}</td></tr>`)}
    </tbody></table></div>` : null}
    <div class="pager">
      <button disabled=${before.length <= 1} onClick=${() => setBefore(before.slice(0, -1))}>Newer</button>
      <button disabled=${!data?.nextBefore} onClick=${() => setBefore([...before, data.nextBefore])}>Older</button>
    </div>
  </section>`;
}

export function AdminPage({ actor }) {
  return html`<section>
    <h1>${can(actor, 'admin') ? 'Admin' : 'Audit'}</h1>
    ${can(actor, 'admin') ? html`<${Users} /><${Keys} />` : null}
    <${Audit} />
  </section>`;
}
