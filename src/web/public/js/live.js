// The tab's one live connection: an EventSource on /v1/live/stream (it reconnects by itself; each
// connection starts with a snapshot). Calls in progress, their recent events, and process health,
// shared by every view that wants them.
import { useEffect, useState } from 'preact/hooks';

const MAX_EVENTS_PER_CALL = 1000;
const state = { connected: false, calls: new Map(), events: new Map(), ended: new Map(), health: null };
const listeners = new Set();
let source = null;

const notify = () => {
  for (const l of listeners) l();
};

export function connectLive() {
  if (source) return;
  source = new EventSource('/v1/live/stream');
  source.addEventListener('open', () => {
    state.connected = true;
    notify();
  });
  source.addEventListener('error', () => {
    state.connected = false;
    notify();
  });
  source.addEventListener('snapshot', (e) => {
    const s = JSON.parse(e.data);
    state.calls = new Map(s.calls.map((c) => [c.id, c]));
    state.health = s.health;
    notify();
  });
  source.addEventListener('call', (e) => {
    const c = JSON.parse(e.data);
    state.calls.set(c.id, c);
    notify();
  });
  source.addEventListener('event', (e) => {
    const { callId, event } = JSON.parse(e.data);
    const list = state.events.get(callId) ?? [];
    list.push(event);
    if (list.length > MAX_EVENTS_PER_CALL) list.shift();
    state.events.set(callId, list);
    const c = state.calls.get(callId);
    if (c) c.mediaMs = event.atMs;
    notify();
  });
  source.addEventListener('ended', (e) => {
    const { callId, reason } = JSON.parse(e.data);
    state.calls.delete(callId);
    state.ended.set(callId, reason);
    notify();
  });
  source.addEventListener('health', (e) => {
    state.health = JSON.parse(e.data);
    notify();
  });
}

export function disconnectLive() {
  source?.close();
  source = null;
  state.connected = false;
}

/** Re-renders the component on every live change; returns the shared state. */
export function useLive() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return state;
}
