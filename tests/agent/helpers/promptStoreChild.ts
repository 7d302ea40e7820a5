// A worker process of the prompt store for the once-per-machine tests: it opens the store on a folder,
// says `ready`, and on `go` (a line on stdin) asks for one prompt. Its synthesis says `producing`, then
// either hangs (the test SIGKILLs the process while it holds the prompt's lock) or returns after a
// delay; the process ends with `result <sha256 of the audio>`.
//   node promptStoreChild.ts <dir> <key> hang|<synthesis ms>
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { PromptStore } from '../../../src/agent/tts/promptStore.ts';

const [dir, key, mode] = process.argv.slice(2);
if (dir === undefined || key === undefined || mode === undefined) throw new Error('usage: promptStoreChild.ts <dir> <key> hang|<ms>');
const store = new PromptStore(dir, 64 * 1024 * 1024);

async function produce(): Promise<Uint8Array> {
  process.stdout.write(`producing ${process.pid}\n`);
  if (mode === 'hang') await new Promise(() => setInterval(() => undefined, 60_000));
  await new Promise((r) => setTimeout(r, Number(mode)));
  return new Uint8Array(4000).fill(process.pid & 0xff);
}

const lines = createInterface({ input: process.stdin });
lines.once('line', () => {
  lines.close();
  void store.readOrProduce(key, produce, new AbortController().signal).then((audio) => {
    process.stdout.write(`result ${createHash('sha256').update(audio).digest('hex')}\n`);
    process.exit(0);
  });
});
process.stdout.write('ready\n');
