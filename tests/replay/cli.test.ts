// `npm run replay` as a user runs it: a child process against the scripted gateway.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../dsp/wav.ts';
import { parseReplayArgs } from '../../src/replay/args.ts';
import { validateSignature } from '../../src/telephony/signature.ts';
import { startFakeGateway, tone, type FakeGateway } from './fakeGateway.ts';

const NODE = path.resolve('node_modules/.bin/node');
const CLI = path.resolve('src/replay/cli.ts');
let dir: string;
let wav: string;
let gw: FakeGateway;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'replay-cli-'));
  wav = path.join(dir, 'caller.wav');
  // 16 kHz source: the CLI must bring it to the wire rate itself.
  await writeFile(wav, encodeWav(tone(600, 440, 16000).samples, 16000));
  gw = await startFakeGateway({
    onStream: (s) => {
      void s.waitFor((e) => e.event.type === 'start').then(() => {
        s.sendAudio(new Uint8Array(300 * 8).fill(0x42));
        for (let i = 1; i <= 3; i++) s.sendMark(`chunk-${i}`);
      });
    },
  });
});
afterAll(async () => {
  await gw.close();
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('replay CLI', () => {
  it('replays a WAV, writes what the caller heard, and prints JSON', async () => {
    const out = path.join(dir, 'reply.wav');
    const r = await run([wav, '--url', gw.url, '--speed', '8', '--hold', '200', '--out', out, '--json', '--from', '+14155550100', '--dtmf', '5@100'], {
      TWILIO_AUTH_TOKEN: 'tok-1',
      PUBLIC_URL: 'https://pub.example.com',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ carrier: 'twilio', callId: 'call-123', endReason: 'finished', out, dtmfSent: [{ digit: '5', atMs: 100 }] });
    // 600 ms of audio and 200 ms hold, longer only if the gateway's audio was still playing.
    expect(json.sentAudioMs).toBeGreaterThanOrEqual(800);
    expect(json.marks.map((m: { name: string }) => m.name)).toEqual(['chunk-1', 'chunk-2', 'chunk-3']);
    const heard = decodeWav(await readFile(out));
    expect(heard.sampleRateHz).toBe(8000);
    // The recording is time-aligned from the stream start: silence, then the 300 ms the gateway sent.
    expect(heard.samples.filter((v) => v !== 0).length).toBe(300 * 8);
    const hook = gw.webhooks.at(-1)!;
    expect(hook.params.From).toBe('+14155550100');
    expect(validateSignature('tok-1', hook.headers['x-twilio-signature'] as string, 'https://pub.example.com/voice/twilio', hook.params)).toBe(true);
  });

  it('prints a readable timeline with mark runs folded', async () => {
    const r = await run([wav, '--url', gw.url, '--speed', '8', '--hold', '0', '--carrier', 'signalwire']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n\s+0 ms {2}start {11}signalwire audio\/x-mulaw@8000/);
    expect(r.stdout).toMatch(/mark {12}chunk-1 … chunk-3 \(3, until \d+ ms\)/);
    expect(r.stdout).toMatch(/call call-123 {2}carrier signalwire/);
    expect(gw.webhooks.at(-1)!.headers['x-signalwire-signature']).toBeUndefined();
  });

  it('fails with a clear message and exit code 2 on bad usage or a missing file', async () => {
    const missing = await run([path.join(dir, 'nope.wav'), '--url', gw.url]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('cannot read')]);
    const bad = await run([wav, '--speed', 'fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--speed must be a positive number');
    const none = await run([]);
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('no WAV file given')]);
  });

  it('fails with exit code 1 when the gateway is not there', async () => {
    const r = await run([wav, '--url', 'ws://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is the gateway running there?');
  });
});

describe('parseReplayArgs', () => {
  it('applies defaults and reads the signing secret for the chosen carrier', () => {
    const a = parseReplayArgs(['x.wav'], { TWILIO_AUTH_TOKEN: 't', SIGNALWIRE_SIGNING_KEY: 's' });
    expect(a).toMatchObject({ file: 'x.wav', carrier: 'twilio', url: 'ws://127.0.0.1:3000', speed: 1, holdMs: 2000, dtmf: [], json: false, authToken: 't' });
    expect(parseReplayArgs(['x.wav', '--carrier', 'signalwire'], { TWILIO_AUTH_TOKEN: 't', SIGNALWIRE_SIGNING_KEY: 's' }).authToken).toBe('s');
    expect(parseReplayArgs(['x.wav', '--dtmf', '1@2500,#@4000'], {}).dtmf).toEqual([{ digit: '1', atMs: 2500 }, { digit: '#', atMs: 4000 }]);
    expect(parseReplayArgs(['x.wav'], { PUBLIC_URL: 'https://p.example.com' }).publicUrl).toBe('https://p.example.com');
  });

  it('rejects what cannot work, naming the option', () => {
    const cases: Array<[string[], RegExp]> = [
      [['x.wav', '--carrier', 'vonage'], /--carrier/],
      [['x.wav', '--url', 'http://h'], /--url/],
      [['x.wav', '--codec', 'L16@16000h'], /SignalWire only/],
      [['x.wav', '--carrier', 'signalwire', '--codec', 'L16@44100h'], /--codec/],
      [['x.wav', '--dtmf', 'A@100'], /cannot be sent on twilio/],
      [['x.wav', '--dtmf', '1-100'], /digit@ms/],
      [['x.wav', '--hold', '-1'], /--hold/],
      [['x.wav', '--speed', '0'], /--speed/],
      [['x.wav', 'y.wav'], /one WAV file/],
      [['x.wav', '--webhook', 'ftp://h'], /--webhook/],
      [['x.wav', '--nope'], /Unknown option/],
    ];
    for (const [argv, message] of cases) expect(() => parseReplayArgs(argv, {}), argv.join(' ')).toThrow(message);
  });
});
