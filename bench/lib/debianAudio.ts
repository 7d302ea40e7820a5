// Audio files of installed Debian packages, for the scans over real recordings (bench/beep-scan.ts,
// bench/amd-unseen.ts): every file under a folder, decoded by SoX, and a recording's active level.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';

/** Every file under `root`, sorted, depth first ([] when `root` is missing: the package is not installed). */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

/** SoX decodes anything it knows (wav, gsm, ogg) to 8 kHz mono 16-bit; float-free, no dither. Null when it cannot. */
export function decodeTo8k(path: string): Int16Array | null {
  try {
    const buf = execFileSync('sox', ['-V1', path, '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', String(SAMPLE_RATE_HZ), '-D', '-'], {
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2)).slice();
  } catch {
    return null;
  }
}

/** Mean square of the 10 ms frames within 25 dB of the loudest (the active speech level, near P.56's). */
export function activeMeanSquare(x: ArrayLike<number>): number {
  const n = SAMPLE_RATE_HZ / 100;
  const ms: number[] = [];
  for (let i = 0; i + n <= x.length; i += n) {
    let e = 0;
    for (let j = i; j < i + n; j++) e += (x[j] as number) ** 2;
    ms.push(e / n);
  }
  const top = Math.max(0, ...ms);
  const active = ms.filter((v) => v >= top * 10 ** -2.5);
  return active.length > 0 ? active.reduce((a, v) => a + v, 0) / active.length : 0;
}
