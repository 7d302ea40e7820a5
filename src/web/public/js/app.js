// The dashboard shell: sign-in, navigation, hash routing (#/live, #/calls/<id>…), and the pages.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, setCsrfToken } from './api.js';
import { html } from './html.js';
import { connectLive, disconnectLive, useLive } from './live.js';
import { LivePage } from './pages/live.js';
import { CallsPage } from './pages/calls.js';
import { CallPage } from './pages/call.js';
import { FlowsPage, FlowPage } from './pages/flows.js';
import { CampaignsPage, CampaignPage } from './pages/campaigns.js';
import { AnalyticsPage } from './pages/analytics.js';
import { AdminPage } from './pages/admin.js';
import { can } from './ui.js';

const parseRoute = () => {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [page = 'live', id] = parts;
  const query = Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] ?? ''));
  return { page, id: id?.split('?')[0], query };
};

function Login({ onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const s = await api('/auth/login', { method: 'POST', body: { name: form.get('name'), password: form.get('password') } });
      setCsrfToken(s.csrfToken);
      onSignedIn(s.actor);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login">
    <form onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title">Voice gateway</h1>
      <p class="muted">Sign in. On first start the user is <code>admin</code> and its password is in <code>data/admin-password</code> (reset it with <code>npm run admin -- reset-password admin</code>).</p>
      <label>User <input name="name" autocomplete="username" required autofocus /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      ${error && html`<div class="error" role="alert">${error}</div>`}
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
  </main>`;
}

const NAV = [
  ['live', 'Live'],
  ['calls', 'Calls'],
  ['campaigns', 'Campaigns'],
  ['flows', 'Flows'],
  ['analytics', 'Analytics'],
];

function Shell({ actor, onSignOut }) {
  const [route, setRoute] = useState(parseRoute());
  const live = useLive();
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    document.getElementById('main')?.focus();
  }, [route.page, route.id]);
  const nav = [...NAV, ...(can(actor, 'supervisor') ? [['admin', can(actor, 'admin') ? 'Admin' : 'Audit']] : [])];
  let page;
  switch (route.page) {
    case 'calls':
      page = route.id ? html`<${CallPage} id=${route.id} actor=${actor} />` : html`<${CallsPage} query=${route.query} />`;
      break;
    case 'campaigns':
      page = route.id ? html`<${CampaignPage} id=${route.id} actor=${actor} />` : html`<${CampaignsPage} actor=${actor} />`;
      break;
    case 'flows':
      page = route.id ? html`<${FlowPage} id=${route.id} actor=${actor} />` : html`<${FlowsPage} actor=${actor} />`;
      break;
    case 'analytics':
      page = html`<${AnalyticsPage} />`;
      break;
    case 'admin':
      page = html`<${AdminPage} actor=${actor} />`;
      break;
    default:
      page = html`<${LivePage} actor=${actor} />`;
  }
  return html`<div class="shell">
    <header>
      <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <strong class="brand">Voice gateway</strong>
      <nav aria-label="Pages">
        ${nav.map(([id, label]) => html`<a href=${`#/${id}`} aria-current=${route.page === id || (id === 'live' && !NAV.some(([n]) => n === route.page) && route.page !== 'admin') ? 'page' : undefined}>${label}${id === 'live' && live.calls.size > 0 ? html` <span class="badge">${live.calls.size}</span>` : ''}</a>`)}
      </nav>
      <span class="who">
        <span class=${`dot ${live.connected ? 'on' : 'off'}`} title=${live.connected ? 'live updates connected' : 'live updates reconnecting'}></span>
        ${actor.name} <span class="muted">(${actor.role})</span>
        <button class="link" onClick=${onSignOut}>Sign out</button>
      </span>
    </header>
    <main id="main" tabindex="-1">${page}</main>
  </div>`;
}

function App() {
  const [actor, setActor] = useState(undefined);
  useEffect(() => {
    api('/auth/session').then(
      (s) => {
        setCsrfToken(s.csrfToken);
        setActor(s.actor);
      },
      (err) => setActor(err instanceof ApiError && err.status === 401 ? null : null),
    );
    const out = () => setActor(null);
    window.addEventListener('gw:signed-out', out);
    return () => window.removeEventListener('gw:signed-out', out);
  }, []);
  useEffect(() => {
    if (actor) connectLive();
    else disconnectLive();
  }, [actor]);
  if (actor === undefined) return html`<p class="loading">Loading…</p>`;
  if (actor === null) return html`<${Login} onSignedIn=${setActor} />`;
  const signOut = async () => {
    await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
    setCsrfToken(null);
    setActor(null);
  };
  return html`<${Shell} actor=${actor} onSignOut=${signOut} />`;
}

render(html`<${App} />`, document.getElementById('app'));
