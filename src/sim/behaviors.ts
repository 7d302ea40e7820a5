// How the simulated network answers a number: per exact number or prefix rule, else by the number's
// last digit (so a list of made-up numbers exercises every outcome without a rules file):
//   …1 busy · …2 no-answer · …3 failed · …4 and …5 voicemail (greeting, beep, silence) · others a person.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeWav, type PcmAudio } from '../../dsp/wav.ts';
import { createError } from '../errors.ts';
import { parseDtmfSpec, type DtmfPress } from '../replay/client.ts';

export const BEHAVIOR_KINDS = ['human', 'voicemail', 'busy', 'no-answer', 'failed'] as const;
export type BehaviorKind = (typeof BEHAVIOR_KINDS)[number];

export interface Behavior {
  kind: BehaviorKind;
  /** What the callee plays once answered (a person's hello; a voicemail greeting ending in a beep). */
  audio?: string;
  /** Keys the person presses, `digit@mediaMs` (e.g. 9@6000). */
  dtmf?: string;
  /** Ringing before the answer (or before busy/failed); scaled by the simulator's speed. */
  ringMs?: number;
  /**
   * Silence after the audio while the gateway says nothing, before the callee hangs up (media ms).
   * Default: a person waits 8 s; a voicemail records up to 60 s after its beep.
   */
  holdMs?: number;
}

export const DEFAULT_HOLD_MS: Record<'human' | 'voicemail', number> = { human: 8000, voicemail: 60_000 };

export interface Rule extends Behavior {
  /** An exact E.164 number, or a prefix ending in `*` (`+1415555*`). */
  match: string;
}

export interface Scenario {
  rules: Rule[];
  /** When no rule matches: a behaviour for every number, or the last-digit convention (default). */
  default?: Behavior | 'by-last-digit';
}

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
export const DEFAULT_AUDIO: Record<'human' | 'voicemail', string> = {
  human: 'speech/human_hello.wav',
  voicemail: 'speech/voicemail_beep.wav',
};

export function byLastDigit(to: string): Behavior {
  switch (to.at(-1)) {
    case '1':
      return { kind: 'busy' };
    case '2':
      return { kind: 'no-answer' };
    case '3':
      return { kind: 'failed' };
    case '4':
    case '5':
      return { kind: 'voicemail' };
    default:
      return { kind: 'human' };
  }
}

export function behaviorFor(scenario: Scenario, to: string): Behavior {
  for (const r of scenario.rules) {
    if (r.match === to || (r.match.endsWith('*') && to.startsWith(r.match.slice(0, -1)))) return r;
  }
  const d = scenario.default ?? 'by-last-digit';
  return d === 'by-last-digit' ? byLastDigit(to) : d;
}

/** Checks a scenario read from JSON; errors name the rule and field. */
export function parseScenario(json: unknown): Scenario {
  const bad = (where: string, what: string): Error => createError('GW_ERR_SIM_SCENARIO', `${where}: ${what}`, { statusCode: 400 });
  const o = (json ?? {}) as { rules?: unknown; default?: unknown };
  const rules = o.rules ?? [];
  if (!Array.isArray(rules)) throw bad('rules', 'must be a list of {match, kind}');
  const behavior = (v: unknown, where: string): Behavior => {
    const b = (v ?? {}) as Record<string, unknown>;
    if (typeof b.kind !== 'string' || !(BEHAVIOR_KINDS as readonly string[]).includes(b.kind)) throw bad(`${where}.kind`, `must be one of ${BEHAVIOR_KINDS.join(', ')}`);
    if (b.audio !== undefined && typeof b.audio !== 'string') throw bad(`${where}.audio`, 'must be a fixture path');
    if (b.dtmf !== undefined) {
      if (typeof b.dtmf !== 'string') throw bad(`${where}.dtmf`, 'must be like 1@2500,#@4000');
      parseDtmfSpec(b.dtmf);
    }
    if (b.ringMs !== undefined && (typeof b.ringMs !== 'number' || b.ringMs < 0 || b.ringMs > 120_000)) throw bad(`${where}.ringMs`, 'must be 0..120000');
    return { kind: b.kind as BehaviorKind, ...(b.audio ? { audio: b.audio } : {}), ...(b.dtmf ? { dtmf: b.dtmf } : {}), ...(b.ringMs !== undefined ? { ringMs: b.ringMs } : {}) };
  };
  return {
    rules: rules.map((r: unknown, i) => {
      const match = (r as { match?: unknown } | null)?.match;
      if (typeof match !== 'string' || !/^\+?[0-9]{1,15}\*?$/.test(match)) throw bad(`rules[${i}].match`, 'must be an E.164 number or a prefix ending in *');
      return { match, ...behavior(r, `rules[${i}]`) };
    }),
    ...(o.default === undefined || o.default === 'by-last-digit' ? {} : { default: behavior(o.default, 'default') }),
  };
}

/** Decoded fixtures, loaded once each. */
export class FixtureCache {
  private readonly cache = new Map<string, Promise<PcmAudio>>();
  private readonly dir: string;

  constructor(dir: string = FIXTURES_DIR) {
    this.dir = dir;
  }

  load(rel: string): Promise<PcmAudio> {
    let p = this.cache.get(rel);
    if (p === undefined) {
      const file = path.resolve(this.dir, rel);
      if (!file.startsWith(path.resolve(this.dir) + path.sep)) return Promise.reject(createError('GW_ERR_SIM_SCENARIO', `audio: ${rel} is outside the fixtures folder`, { statusCode: 400 }));
      p = readFile(file).then((b) => decodeWav(new Uint8Array(b)));
      this.cache.set(rel, p);
      p.catch(() => this.cache.delete(rel));
    }
    return p;
  }
}

export function dtmfOf(b: Behavior): DtmfPress[] {
  return b.dtmf ? parseDtmfSpec(b.dtmf) : [];
}
