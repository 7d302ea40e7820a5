// `npm run replay -- FILE.wav …`: play a recording into a running gateway as a carrier would, print the
// timeline (or JSON), and optionally save what the caller heard. Exit codes: 0 done, 1 failed, 2 bad usage.
import { readFile, writeFile } from 'node:fs/promises';
import { decodeWav, encodeMulawWav } from '../../dsp/wav.ts';
import { GatewayError } from '../errors.ts';
import { parseReplayArgs, USAGE } from './args.ts';
import { replayCall, type ReplayResult, type TimelineEntry } from './client.ts';

function line(e: TimelineEntry): string {
  return `${String(e.atMs).padStart(8)} ms  ${e.event.padEnd(16)}${e.detail ?? ''}`;
}

/**
 * Prints the timeline as it happens, folding runs of marks and mark echoes (one per audio chunk, so
 * dozens per sentence) into one line unless `verbose`.
 */
class TimelinePrinter {
  private run: TimelineEntry[] = [];
  private readonly verbose: boolean;
  private readonly write: (text: string) => void;

  constructor(verbose: boolean, write: (text: string) => void) {
    this.verbose = verbose;
    this.write = write;
  }

  add(e: TimelineEntry): void {
    const foldable = !this.verbose && (e.event === 'mark' || e.event === 'mark.echo');
    if (this.run.length > 0 && (!foldable || this.run[0]?.event !== e.event)) this.flush();
    if (foldable) this.run.push(e);
    else this.write(`${line(e)}\n`);
  }

  flush(): void {
    const first = this.run[0];
    const last = this.run.at(-1);
    if (first && last) {
      if (this.run.length === 1) this.write(`${line(first)}\n`);
      else {
        const detail = `${first.detail ?? ''} … ${last.detail ?? ''} (${this.run.length}, until ${last.atMs} ms)`;
        this.write(`${line({ ...first, detail })}\n`);
      }
    }
    this.run = [];
  }
}

function summary(r: ReplayResult): string {
  const heardMs = Math.round(r.audio.length / 8);
  const rows = [
    `call ${r.callId ?? '(no callId parameter)'}  carrier ${r.carrier}  stream ${r.streamId}`,
    `ended: ${r.endReason}${r.close ? ` (close ${r.close.code}${r.close.reason ? ` ${r.close.reason}` : ''})` : ''}`,
    `sent ${r.sentAudioMs} ms of caller audio in ${r.wallMs} ms wall`,
    r.firstAudio ? `first gateway audio after ${r.firstAudio.mediaMs} ms media (${r.firstAudio.wallMs} ms wall)` : 'no audio from the gateway',
    `gateway audio: ${Math.round(r.receivedAudioMs)} ms received, ${heardMs} ms recording (cleared ${r.clears.length}×)`,
    `marks: ${r.marks.length} (${r.marks.filter((m) => m.cleared).length} echoed by a clear)`,
  ];
  return rows.join('\n');
}

function toJson(r: ReplayResult, out: string | undefined): string {
  const { audio, ...rest } = r;
  return JSON.stringify({ ...rest, webhook: { ...rest.webhook, twiml: undefined }, heardAudioMs: Math.round(audio.length / 8), out }, null, 2);
}

async function main(argv: string[]): Promise<number> {
  const args = parseReplayArgs(argv, process.env);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(args.file);
  } catch (err) {
    process.stderr.write(`replay: cannot read ${args.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 2;
  }
  let audio;
  try {
    audio = decodeWav(bytes);
  } catch (err) {
    process.stderr.write(`replay: ${args.file}: ${(err as Error).message}\n`);
    return 2;
  }
  const printer = new TimelinePrinter(args.verbose, (text) => process.stdout.write(text));
  const ac = new AbortController();
  const onSigint = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const result = await replayCall({
      carrier: args.carrier,
      audio,
      url: args.url,
      speed: args.speed,
      dtmf: args.dtmf,
      holdMs: args.holdMs,
      codec: args.codec,
      from: args.from,
      to: args.to,
      authToken: args.authToken,
      publicUrl: args.publicUrl,
      webhook: args.webhook ? { url: args.webhook, params: { Direction: 'outbound-api', CallStatus: 'in-progress' } } : undefined,
      callSid: args.callSid,
      signal: ac.signal,
      onEvent: args.json ? undefined : (e) => printer.add(e),
    });
    printer.flush();
    if (args.out) await writeFile(args.out, encodeMulawWav(result.audio));
    if (args.json) process.stdout.write(`${toJson(result, args.out)}\n`);
    else process.stdout.write(`\n${summary(result)}${args.out ? `\nwrote ${args.out}` : ''}\n`);
    if (result.endReason === 'no-stream') {
      process.stderr.write(`replay: the gateway answered without <Connect><Stream> (${result.webhook.verbs.join(' ') || 'empty response'})\n`);
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof GatewayError && err.code === 'GW_ERR_REPLAY_ARGS';
    process.stderr.write(`replay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
