// `node bench/fit-calibration.ts` — fits the AMD confidence calibration on the tune split only:
// raw scores (calibrated: false) of human/machine files that got a human/machine verdict, isotonic
// regression (pool-adjacent-violators) of "verdict right" on the raw score, each pooled block smoothed
// as (right + 1) / (n + 2). Prints the knots for dsp/calibration.ts. Never fit on held-out.
import { evaluateAmd } from './eval-amd.ts';

/** Smallest pooled block: a handful of files cannot say 0.9 from 0.95. */
export const MIN_BLOCK = 10;

interface Block {
  last: number;
  rawSum: number;
  n: number;
  right: number;
}

export function fitIsotonic(points: { raw: number; right: boolean }[]): [number, number][] {
  const sorted = [...points].sort((a, b) => a.raw - b.raw);
  const blocks: Block[] = [];
  for (const p of sorted) {
    const last = blocks[blocks.length - 1];
    // Equal raw scores are one block: the calibration is a function of the score.
    if (last !== undefined && Math.abs(last.last - p.raw) < 1e-9) {
      last.rawSum += p.raw;
      last.n++;
      last.right += p.right ? 1 : 0;
    } else {
      blocks.push({ last: p.raw, rawSum: p.raw, n: 1, right: p.right ? 1 : 0 });
    }
    // Pool while the accuracy decreases.
    while (blocks.length >= 2) {
      const b = blocks[blocks.length - 1] as Block;
      const a = blocks[blocks.length - 2] as Block;
      if (a.right / a.n <= b.right / b.n) break;
      blocks.splice(blocks.length - 2, 2, merge(a, b));
    }
  }
  // Pool small blocks into their smaller neighbour until every block holds MIN_BLOCK files.
  for (;;) {
    let i = -1;
    for (let j = 0; j < blocks.length; j++) if ((blocks[j] as Block).n < MIN_BLOCK && (i < 0 || (blocks[j] as Block).n < (blocks[i] as Block).n)) i = j;
    if (i < 0 || blocks.length < 2) break;
    const left = blocks[i - 1];
    const right = blocks[i + 1];
    const k = right === undefined || (left !== undefined && left.n <= right.n) ? i - 1 : i;
    blocks.splice(k, 2, merge(blocks[k] as Block, blocks[k + 1] as Block));
  }
  const knots: [number, number][] = [];
  // A verdict's confidence is above a coin flip by contract (it is the side the detector chose); where the
  // tune split says that side is right only about half the time (a long answer, then silence, called a
  // person because hanging up on one is worse), 0.51 says "no better than a coin" within that contract.
  let floor = 0.51;
  for (const b of blocks) {
    // Smoothing can break the order between blocks of different sizes: keep it non-decreasing.
    floor = Math.max(floor, (b.right + 1) / (b.n + 2));
    knots.push([Math.round((b.rawSum / b.n) * 1000) / 1000, Math.round(floor * 100) / 100]);
  }
  return knots;
}

function merge(a: Block, b: Block): Block {
  return { last: b.last, rawSum: a.rawSum + b.rawSum, n: a.n + b.n, right: a.right + b.right };
}

if (import.meta.main) {
  const report = await evaluateAmd({ splits: ['tune'], amd: { calibrated: false } });
  const points = report.outcomes
    .filter((o) => (o.truth === 'human' || o.truth === 'machine') && (o.result === 'human' || o.result === 'machine'))
    .map((o) => ({ raw: o.confidence, right: o.correct }));
  const knots = fitIsotonic(points);
  process.stdout.write(`// ${points.length} tune files\nexport const AMD_CALIBRATION: readonly (readonly [number, number])[] = [\n`);
  for (const [x, y] of knots) process.stdout.write(`  [${x}, ${y}],\n`);
  process.stdout.write('];\n');
}
