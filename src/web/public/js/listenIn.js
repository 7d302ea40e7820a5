// Listen-in: reads the call's audio records from /v1/live/calls/{id}/audio and plays them with the Web
// Audio API, the caller on the left and the gateway on the right. Records are
// [channel 1 B][length 2 B BE][8 kHz mu-law]; each channel is scheduled back to back from its own cursor.
// The server sends both channels in lockstep on the call's media clock (the gateway channel is what the
// caller hears: prompts and agent speech as played, silence between), and a level meter per channel
// shows what arrives.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';

// G.711 mu-law decoding table (ITU-T G.711), as floats in [-1, 1].
const MULAW = new Float32Array(256);
for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  MULAW[i] = ((u & 0x80 ? 0x84 - t : t - 0x84) / 32768);
}

export function ListenIn({ id }) {
  const [on, setOn] = useState(false);
  const [error, setError] = useState(null);
  const [levels, setLevels] = useState([0, 0]);
  const stop = useRef(null);
  useEffect(() => () => stop.current?.(), []);
  const start = async () => {
    setError(null);
    const ctx = new AudioContext();
    const abort = new AbortController();
    // RMS of each channel's loudest record over the last 200 ms, for the meters.
    let peaks = [0, 0];
    const meter = setInterval(() => {
      setLevels(peaks);
      peaks = [0, 0];
    }, 200);
    // Stopped by the button and again when the stream ends: the second time is a no-op.
    let stopped = false;
    stop.current = () => {
      if (stopped) return;
      stopped = true;
      abort.abort();
      clearInterval(meter);
      void ctx.close();
      setOn(false);
      setLevels([0, 0]);
    };
    setOn(true);
    try {
      const res = await fetch(`/v1/live/calls/${encodeURIComponent(id)}/audio`, { signal: abort.signal, credentials: 'same-origin' });
      if (!res.ok) throw new Error((await res.json().catch(() => ({}))).message ?? `listen-in refused (${res.status})`);
      const reader = res.body.getReader();
      const cursor = [0, 0];
      let pending = new Uint8Array(0);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const joined = new Uint8Array(pending.length + value.length);
        joined.set(pending);
        joined.set(value, pending.length);
        let off = 0;
        while (off + 3 <= joined.length) {
          const ch = joined[off];
          const len = (joined[off + 1] << 8) | joined[off + 2];
          if (off + 3 + len > joined.length) break;
          const buf = ctx.createBuffer(1, len, 8000);
          const out = buf.getChannelData(0);
          let energy = 0;
          for (let i = 0; i < len; i++) {
            out[i] = MULAW[joined[off + 3 + i]];
            energy += out[i] * out[i];
          }
          const rms = len > 0 ? Math.sqrt(energy / len) : 0;
          if (ch === 0 || ch === 1) peaks[ch] = Math.max(peaks[ch], rms);
          const src = ctx.createBufferSource();
          src.buffer = buf;
          const pan = new StereoPannerNode(ctx, { pan: ch === 0 ? -0.8 : 0.8 });
          src.connect(pan).connect(ctx.destination);
          const at = Math.max(ctx.currentTime + 0.05, cursor[ch] ?? 0);
          src.start(at);
          cursor[ch] = at + buf.duration;
          off += 3 + len;
        }
        pending = joined.slice(off);
      }
    } catch (err) {
      if (err.name !== 'AbortError') setError(err.message);
    } finally {
      stop.current?.();
    }
  };
  return html`<div class="listen">
    ${on ? html`<button onClick=${() => stop.current?.()}>Stop listening</button> <span class="muted">caller left, gateway right</span>
      <label>Caller <meter aria-label="Caller level" data-testid="level-caller" min="0" max="0.5" value=${levels[0]}></meter></label>
      <label>Gateway <meter aria-label="Gateway level" data-testid="level-gateway" min="0" max="0.5" value=${levels[1]}></meter></label>` : html`<button onClick=${start}>Listen in</button>`}
    ${error && html`<div class="error" role="alert">${error}</div>`}
  </div>`;
}
