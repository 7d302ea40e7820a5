// Small shared pieces: formatting, empty/error/not-available states, a data loader hook.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { isMissing } from './api.js';
import { html } from './html.js';

export const fmtMs = (ms) => {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
};
export const fmtSecs = (ms) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '–');
export const fmtPct = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)} %`);

export function Empty({ title, children }) {
  return html`<div class="empty" role="status"><strong>${title}</strong><div>${children}</div></div>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  if (isMissing(error)) {
    return html`<div class="notice" role="status">Not available on this gateway yet: the API behind this view is not deployed (${error.message}).</div>`;
  }
  return html`<div class="error" role="alert">${error.message}</div>`;
}

/** Loads `fn()` when `deps` change; returns { data, error, loading, reload }. */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: undefined, error: undefined, loading: true });
  const reload = useCallback(() => {
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => setState({ data, error: undefined, loading: false }),
      (error) => setState({ data: undefined, error, loading: false }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

export const can = (actor, role) => ({ viewer: 0, supervisor: 1, admin: 2 })[actor.role] >= ({ viewer: 0, supervisor: 1, admin: 2 })[role];
export const mayHear = (actor) => actor.role !== 'viewer' || actor.recordings;
