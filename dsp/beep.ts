// Voicemail beep detector. A beep is a steady tone (LumenVox: usually one pure tone, ±10 Hz drift,
// 70 ms–1.5 s; Genesys: 1000 Hz ±50, single or dual; mod_avmd: 440–2000 Hz with tiny frequency variance
// and stable amplitude), sometimes two steps in a row or two tones at once. The voicemail starts
// recording when it ends, so we signal the END, as soon as the tone stops.
//
// Method: a 256-point Hann-windowed FFT (fft.js) every 10 ms. A hop is tonal when one spectral peak
// (±2 bins, the Hann main lobe) holds `minPurity` of the band energy — or two peaks together, for dual
// tones that are not a DTMF pair — and its frequency stays within `frequencyToleranceHz` of the running
// mean. Speech fails on purity (energy spread over harmonics) or steadiness (pitch moves); chords fail on
// purity; DTMF fails the pair check. A held vowel whose strongest harmonic looks pure (a high voice,
// ~370 Hz, steady) is refused by physics once the candidate ends (beepVoicing.ts): its neighbouring
// harmonics f ± f0 in the spectrum summed over the step, a pitch that wanders around a straight line,
// a level that moves; a per-hop partner at 2f or f/2 in a third of the hops refuses it too; so do its lower
// neighbours f − f0 and f − 2·f0 within 10 dB of it (a low voice's formant-boosted 3rd–5th harmonic, whose
// neighbours the 32 ms window does not resolve into peaks: LOWER_SERIES_DB). The tone
// ends when a hop's level falls `dropDb` below the tone's level or its purity goes; that hop is at most
// 10 ms after the end, plus the window tail. Two tones close enough to share one lobe beat: their level
// falls to a null and back every 1/Δf s; those dips are bridged and the level judged on the beat's
// crests (beepBeats.ts), while the voice tests above still apply; its start and end, which may hide in a
// null, are read from where the level rose out of the line and the last hop still over it (findRise,
// beatDip). A candidate that passes everything is held until a window clear of it shows what follows
// (beepAftermath.ts): the same voice carrying one of its components on (or where it glided to) refuses
// it; quiet, noise, hum or a click let it through, but the two hops right after its end still 15 dB over the
// line it rose out of (a voice fading over 30–50 ms; a beep switches off within a hop) refuse it.
// In noise (down to ~6 dB SNR) a tone loses hops to purity, turns tonal late and blurs the change between
// two steps: see MAX_TRANSITION_HOPS (steps joined across it), LATE_MIN_HOPS (an onset judged from the line
// before it) and FLAT_RESIDUE (a runner-up lobe that is only noise).
import FFT from 'fft.js';
import { FRAME_SAMPLES, SAMPLE_RATE_HZ, msToSamples, type FrameProcessor } from './frame.ts';
import { meanSquareToDbfs } from './levels.ts';
import { isDtmfPair } from './dtmf-tones.ts';
import { BAND_HI, BAND_LO, BIN_HZ, BROAD_LOBE_SPREAD, HALF, HARMONIC_SHARE_INV, HOP, LOBE, SEARCH_LO, WIDE, WIDE_STRICTER, WINDOW, harmonicPartner, interpolatedHz, lobeEnergy, lobeSpreadBins2, wideCentroidHz, wideLobeEnergy } from './beepSpectrum.ts';
import { StepRecord, harmonicComb, harmonicPair, harmonicRatio, lineChange, lowerSeriesDb, residualRms, widePairVoiced } from './beepVoicing.ts';
import { BeatEnvelope } from './beepBeats.ts';
import { ToneAftermath } from './beepAftermath.ts';

export interface BeepOptions {
  minFrequencyHz?: number;
  maxFrequencyHz?: number;
  minDurationMs?: number;
  maxDurationMs?: number;
  /** Share of band energy within the peak(s) for a hop to count as tonal (0–1). */
  minPurity?: number;
  /** Hops quieter than this are not tones (dBFS). */
  minDbfs?: number;
  /** Largest allowed departure of a hop's frequency from the step's running mean (Hz). */
  frequencyToleranceHz?: number;
  /** Relative tolerance, used when larger than frequencyToleranceHz. */
  frequencyTolerance?: number;
  /** Level drop below the tone's level that ends it (dB). */
  dropDb?: number;
  /** Accept two simultaneous tones (not DTMF pairs). */
  allowDual?: boolean;
  /** Accept a change of frequency mid-tone (two- or three-step beeps). */
  maxSteps?: number;
  /** A beep must rise this far above the audio just before it (dB). */
  onsetJumpDb?: number;
  /** The next strongest spectral peak must be this far below the tone (dB). */
  secondPeakDb?: number;
  /** Largest spread of a single tone's hop levels (dB). */
  levelRangeDb?: number;
}

/** Reused result: read before the next `process`. */
export interface BeepFrame {
  /** A beep ended and is signalled with this frame. */
  beep: boolean;
  /** Frequency of the beep's last step (Hz); for dual tones the lower tone. */
  frequencyHz: number;
  /** Estimated tone duration, in samples. */
  durationSamples: number;
  /** Estimated first sample after the tone. */
  endSample: number;
  /** A steady tone is sounding right now (≥ 40 ms so far). */
  toneActive: boolean;
}

/**
 * Candidates shorter than this are refused when the hop before their onset already held their harmonic
 * (beepAftermath.ts `ledIn`): what still fired at some frame alignments were 60–130 ms stretches of a
 * voice's harmonic; a voice does not hold one pure for longer without the wander and level tests seeing it.
 */
const LEAD_IN_MAX_SAMPLES = 1600; // 200 ms
/**
 * …and only when the tone rose less than this over the hop before it: those voices rose 6–7.5 dB (the onset
 * rule's 6 is all they had to clear), the recall sweep's beeps in noise 12 dB or more, so a noise peak or the
 * onset's own leakage in the hop before a beep is never taken for a voice.
 */
const LEAD_IN_JUMP_DB = 10;

/**
 * Spectra kept: this hop's and the five before. The onset's narrow-band reference is the one four hops
 * back, whose 32 ms window ends ~20 ms before the first tonal hop's begins: clear of a tone that a noisy
 * line made tonal late (up to ~27 ms after its onset), whatever the frame alignment. The late onset rule
 * below reads up to five back.
 */
const POWER_BUFFERS = 6;
const NARROW_REF_HOPS = 4;
/**
 * The late onset rule. In noise a tone turns tonal late (its abrupt onset splatters the spectrum and the
 * window still holds the line before it): up to four hops after the hop its onset fell in, so every
 * reference of the rules above (the three hops before the first tonal one) holds part of the tone and the
 * rise looks like 0.2–4 dB (a 1305 → 480 Hz beep at 12 dB SNR, synthetic beeps 6 dB over the noise). So
 * the level history is read further back, LATE_MIN_HOPS to LATE_MAX_HOPS before the first tonal hop, for
 * the line as it was: the most recent hop there within NARROW_ONSET_OVER_FLOOR_DB of the line's floor. The
 * tone must rise the onset rule's 6 dB over that hop, and every hop between them but the first (which holds
 * the onset, part line, part tone) must already sit at the tone's level (LATE_FLAT_DB under its steadiest
 * level at most, never above its loudest): the tone was sounding in full, only not yet tonal. A vowel rising
 * out of a pause swells over its first 20–50 ms; a beep is at full level from its first hop.
 */
const LATE_MIN_HOPS = 4;
const LATE_MAX_HOPS = 5;
const LATE_FLAT_DB = 1;
/** Hop levels kept for that rule (this hop's and the ones before). */
const LEVEL_RING = 8;
/**
 * The onset rule, narrow-band (a second way past the 6 dB broadband jump): a tone whose own lobe rose this
 * far over the same lobe in the reference spectrum was not sounding there before. Quiet beeps at 12 dB SNR
 * rise 22–55 dB in their lobe while only 5–6 dB broadband. A voice's harmonic after a consonant rises as
 * much in its lobe (20–33 dB measured), so this alone proves nothing: see the floor rule below.
 */
const NARROW_ONSET_DB = 20;
/**
 * …and broadband at least this far: a tone is an addition to the line, so the level rises; a harmonic that
 * takes over while the voice's level holds is not.
 */
const NARROW_ONSET_MIN_BROAD_DB = 3;
/** The floor is the quietest hop of the last second: ten blocks of ten hops. */
const FLOOR_BLOCKS = 10;
const FLOOR_BLOCK_HOPS = 10;
/**
 * …and the audio just before the tone (the onset rule's 3-hop minimum) lay within this of the line's
 * floor: the tone rose out of the line's own noise, not out of a voice's consonant or a softer vowel. The
 * floor, a minimum of 100 hop levels, sits ~2 dB under a typical noise hop, and at a bad frame alignment
 * the 3-hop minimum holds up to ~2 dB of the tone's start: quiet beeps measured 2.7–3.3 dB; the voices this
 * rule alone let through (Asterisk prompts at 10 dB SNR, a game radio voice) 7–33 dB.
 */
const NARROW_ONSET_OVER_FLOOR_DB = 4;

/**
 * The weaker of a single tone's two lower neighbours f − f0, f − 2·f0 (beepVoicing.ts lowerSeriesDb) this
 * loud relative to it makes it a voice's harmonic. A LibriVox reader's 3rd harmonic (342 Hz of a 114 Hz
 * voice, boosted by the first formant, the 4th harmonic 20 dB down) fired as a 70 ms beep: its 1st and 2nd
 * harmonics stood −4 dB. The recall sweep's beeps (single, two-step, dual; 6–12 dB SNR, white and pink) at
 * most −18 dB.
 */
const LOWER_SERIES_DB = -10;
/** Hops of a step before a frequency change counts as a new step instead of noise. */
const MIN_STEP_HOPS = 4;
/** Hops the last step of a multi-step candidate must hold (a 70 ms step in noise holds 4–6). */
const MIN_LAST_STEP_HOPS = 3;
/** Samples between a tone's onset and the end of its first tonal hop (measured on clean tones). */
const ONSET_LAG = 136;
/**
 * A new step must jump at least this far (absolute Hz or relative): a clean change of tone, not a
 * glide of speech pitch broken into pieces.
 */
const MIN_STEP_JUMP_HZ = 60;
const MIN_STEP_JUMP = 0.1;
/** Duration estimates are good to about ±1.5 hops (a dual tone's onset hop is often not tonal yet). */
const DURATION_SLACK = (3 * HOP) / 2;
/** At most one hop in this many of a beep may be a bridged (non-tonal) one. */
const MAX_BRIDGED_SHARE_INV = 4;
/**
 * Pitch wander around the step's straight line (fixed or drifting tone) that only a voice shows:
 * measured beeps stay under 1.9 Hz down to 12 dB SNR and 70 ms; a voice's strongest harmonic moves
 * with n × its fundamental's jitter and vibrato (0.5–2%).
 */
const MAX_WANDER_HZ = 2.5;
const MAX_WANDER = 0.004;
/**
 * A step whose frequency moves steadily (a straight line, which the wander test lets through for a
 * drifting beep) by more than this in all (Hz, or relative when larger)… A vowel's harmonic glides:
 * 372 → 350 Hz within 60 ms in a fr-june greeting, which the second-peak rule's flat-residue way out
 * (see FLAT_RESIDUE) made tonal throughout.
 */
const MAX_GLIDE_HZ = 8;
const MAX_GLIDE = 0.02;
/** …at more than this rate (Hz per second): a drifting beep (±10 Hz over its 0.1–1.5 s) moves far slower. */
const MAX_GLIDE_RATE_HZ_PER_S = 100;
/**
 * Hops with a partner needed before the share rule applies: two noisy hops of a 70 ms beep are chance;
 * a short vowel is left to the summed-spectrum comb.
 */
const MIN_HARMONIC_HOPS = 3;
/**
 * A tone's 10 ms level in noise moves with the noise: by ~1.4·√(N/T) dB (one σ; tone × noise cross term
 * over 80 samples), so over a long tone its range grows by about five of those (±2.5σ). At 9 dB SNR a 1 s
 * beep in pink noise spanned 2.5–2.6 dB, over the 2.5 dB a steady tone is allowed.
 */
const NOISE_RANGE_DB = 7;
/**
 * …for a single tone (a beating pair's crests have rules of their own) of at least this length: a range's
 * extremes grow with its hops, and a short voiced stretch in noise (a 130 ms 300–330 Hz harmonic 14 dB
 * over pink noise) must not gain the room.
 */
const NOISE_RANGE_MIN_SAMPLES = 2000; // 250 ms
/** The floor (the quietest hop of the last second) sits about this far under a typical noise hop. */
const FLOOR_TO_NOISE_DB = 2;
/** Level change along the step (line fit over its hops but the last): beeps hold their level within 1 dB. */
const MAX_LEVEL_CHANGE_DB = 2;
/** Non-tonal hops bridged inside a tone: noise spoiling a hop, or the step of a multi-step beep. */
const MAX_BRIDGE_HOPS = 2;
/**
 * Hops bridged once a step is established (MIN_STEP_HOPS): where one step of a multi-step beep gives way to
 * the next, the 32 ms window holds both tones for up to four hops, and in noise (a 1305 → 480 Hz beep at
 * 12 dB SNR) all four can fail purity; a long beep 6 dB over white noise loses up to four hops in a row too.
 * Only a clean jump to a new step, or the same tone coming back, may follow such a bridge: anything else
 * ends the candidate where the bridge began, judged as if two hops had been the limit.
 */
const MAX_TRANSITION_HOPS = 4;
/**
 * A "step" this short after an established one is that transition read as a tone between the two (two
 * tones 200 Hz apart in one window read as their centroid, 1000 → 891 → 800 Hz): when the next hop jumps
 * cleanly from the established step, its hops are bridged instead of the beep being dropped.
 */
const MAX_TRANSITION_STEP_HOPS = 2;
/**
 * A level drop is bridged as the null of a beat (two close tones, see beepBeats.ts) for at most this
 * many hops: the 10 ms level of two equal tones 10 Hz apart stays 6 dB under its crest for a third of
 * their 100 ms beat, which touches four hops; closer pairs are one tone whose level wanders.
 */
const MAX_DIP_HOPS = 4;
/**
 * A hop holds a tone (not only the line's noise) when it is this far over the line before the tone. A 10 ms
 * hop of line noise moves ±1 dB or so; a pair's null hop (10 ms of a 40 Hz beat: 6 dB under the pair's mean
 * power) still sits 4–6 dB over the line at 9–12 dB SNR.
 */
const PRESENT_OVER_LINE_DB = 3;
/**
 * The hop a tone rose from lies at the line's noise: this close to its floor (the quietest hop of the last
 * second; a typical hop of white noise sits ~2 dB over it, of pink noise, whose 10 ms level moves more, up to 5).
 */
const RISE_LINE_OVER_FLOOR_DB = 8;
/** Broad-lobe hops (past the onset) that show a candidate is two close tones. */
const MIN_PAIR_HOPS = 2;
/**
 * Past its first hop, a single tone's dip must stay this far over the line's floor before the tone (a tone's
 * end falls to the floor); a pair's nulls may sink into it.
 */
const DIP_OVER_FLOOR_DB = 6;

/**
 * The second-peak rule's way out in noise: a lobe (2·LOBE + 1 bins) of white noise holds on average its
 * share of the residue (the band's energy outside the tone's lobes), and its strongest lobe seldom more
 * than FLAT_RESIDUE times that (measured over 20 000 hops of white noise: 2.7× in the median hop, over 4× in
 * 3%). At 6 dB SNR a noise lobe sits only ~17 dB under a tone (14 dB under each tone of a dual one), so the
 * fixed 15 dB rule refused most hops of a beep that is plainly there. A voice's residue is its other
 * harmonics: a few lobes that hold most of it, each many times the mean. (Pink noise is not flat: its
 * strongest lobe is 5.3× the mean in the median hop, so there this helps little.)
 */
const FLAT_RESIDUE = 4;
const BAND_BINS = BAND_HI - BAND_LO + 1;
/**
 * Inside an established step of two resolved tones, a hop whose two peaks sit at the step's two frequencies
 * carries it on when its third lobe is this far under the weaker tone (not secondPeakDb): over pink noise
 * 9 dB under a 950 + 1400 Hz beep, the noise's low-end lobe (300 Hz) sat 14–15 dB under each tone, so the
 * beep broke up after its onset hop and lost its onset. A lobe of noise comes and goes from hop to hop; two
 * harmonics of a voice that hold their frequencies are what the step's voice tests (harmonicPair, the pitch
 * wander) then judge on the summed spectrum. The flat-residue rule does not help there: pink noise is not flat.
 */
const CARRIED_THIRD_RATIO = 10 ** (-9 / 10);

/** Whether the strongest other lobe `e` is no more than noise in a flat `residue` (energy outside `tones` lobes). */
function flatResidue(e: number, residue: number, tones: number): boolean {
  const lobe = 2 * LOBE + 1;
  return e <= ((FLAT_RESIDUE * residue) / (BAND_BINS - tones * lobe)) * lobe;
}

export class BeepDetector implements FrameProcessor<BeepFrame> {
  readonly minFrequencyHz: number;
  readonly maxFrequencyHz: number;
  readonly minDurationMs: number;
  readonly maxDurationMs: number;
  readonly minPurity: number;
  readonly minDbfs: number;
  readonly frequencyToleranceHz: number;
  readonly frequencyTolerance: number;
  readonly dropDb: number;
  readonly allowDual: boolean;
  readonly maxSteps: number;
  readonly onsetJumpDb: number;
  readonly secondPeakDb: number;
  readonly levelRangeDb: number;
  private readonly secondPeakRatio: number;

  private readonly fft: FFT;
  private readonly hist = new Float64Array(WINDOW);
  private readonly windowed = new Float64Array(WINDOW);
  private readonly hann = new Float64Array(WINDOW);
  private readonly spectrum: number[];
  /** This hop's power spectrum: one of POWER_BUFFERS buffers taking turns, so the hops before stay readable. */
  private power: Float64Array;
  private readonly powers = Array.from({ length: POWER_BUFFERS }, () => new Float64Array(HALF + 1));
  /** Which buffer holds this hop, and whether each holds a spectrum (quiet hops skip the FFT). */
  private powerAt = 0;
  private readonly powerValid = new Array<boolean>(POWER_BUFFERS).fill(false);
  /** The spectrum before the candidate's onset (the line: hum, a carrier's own tones), for the aftermath. */
  private readonly preTone = new Float64Array(HALF + 1);
  private preToneValid = false;
  /** The candidate's onset rise in its own lobe (dB; see NARROW_ONSET_DB), set when it starts. */
  private onsetNarrowDb = 0;
  /** The line's floor: the quietest hop level of the last FLOOR_BLOCKS × FLOOR_BLOCK_HOPS hops (block minima). */
  private readonly floorBlocks = new Float64Array(FLOOR_BLOCKS).fill(Infinity);
  private floorBlockAt = 0;
  private floorBlockHops = 0;
  private floorAtStartDb = -Infinity;
  private readonly out: BeepFrame = { beep: false, frequencyHz: 0, durationSamples: 0, endSample: 0, toneActive: false };
  private readonly minDurationSamples: number;
  private readonly maxDurationSamples: number;
  private readonly kMin: number;
  private readonly kMax: number;

  private samples = 0;
  private filled = 0;
  // Tone tracking state.
  private inTone = false;
  private tooLong = false;
  private toneStart = 0;
  /**
   * Where the level rose to the tone out of the line before it (see startTone), NaN if it did not rise
   * cleanly out of the line within LATE_MAX_HOPS; and that line's hop level.
   */
  private riseStart = NaN;
  private riseLineDb = NaN;
  /** Hops between the rise and the first tonal hop (they held the tone already). */
  private riseHops = 0;
  /** The spectrum of the rise's line hop. */
  private readonly riseTone = new Float64Array(HALF + 1);
  private riseToneValid = false;
  private stepFreq = 0;
  private stepFreq2 = 0;
  private stepHops = 0;
  private steps = 0;
  private toneLevelDb = -Infinity;
  private preToneLevelDb = -Infinity;
  private stepMin = 0;
  private stepMax = 0;
  private bridge = 0;
  private bridgeEnd = 0;
  /** The bridge under way holds a tonal hop at no step's frequency (see track). */
  private bridgeUnsteady = false;
  private levelHist0 = -Infinity;
  private levelHist1 = -Infinity;
  private levelHist2 = -Infinity;
  /** Hop levels, this hop's at `levelRingAt` (see LATE_MIN_HOPS). */
  private readonly levelRing = new Float64Array(LEVEL_RING).fill(-Infinity);
  private levelRingAt = 0;
  /**
   * The late onset's reference (see LATE_MIN_HOPS), set when a candidate starts: the line's hop level and
   * its spectrum (the pre-tone spectrum the aftermath and lead-in use if the candidate passes by this rule).
   * NaN when no hop that far back was at the floor.
   */
  private lateRefDb = NaN;
  /** The lowest and highest level of the hops between the onset's hop and the first tonal one. */
  private lateMidMinDb = 0;
  private lateMidMaxDb = 0;
  private readonly lateTone = new Float64Array(HALF + 1);
  private lateToneValid = false;
  /** The steadiest (lowest middle-hop) level of the candidate's first step, for the late onset rule. */
  private firstStepLevelMinDb = 0;
  // Scratch results of the last hop analysis (fields, not objects, to avoid allocation).
  private hopTonal = false;
  private hopFreq = 0;
  private hopFreq2 = 0;
  private hopLevelDb = 0;
  private hopWide = false;
  /** `power` holds this hop's spectrum (quiet hops skip the FFT unless a beep is held). */
  private hopSpectrum = false;
  /**
   * The hop's single lobe is broader than one tone's (two tones inside it): described by its centroid
   * like a wide lobe, but still summed for the voice tests, since a glide of a voice's harmonic broadens
   * a lobe too and the comb and wander tests must still see it.
   */
  private hopBroad = false;
  /** The hop's single tone has a partner at twice or half its frequency (a voice's harmonics). */
  private hopHarmonic = false;
  private harmonicHops = 0;
  private stepLevelMin = 0;
  private stepLevelMax = 0;
  private pendingLevelDb = 0;
  private toneHops = 0;
  private bridgedHops = 0;
  private firstStepLevelDb = 0;
  /** The frequency of the step before this one (0 in the first step). */
  private prevStepFreq = 0;
  /** The current step's hops (frequency, level, summed spectrum), for the voice tests at its end. */
  private readonly record = new StepRecord();
  /** An earlier step of this candidate already sounded like a voice. */
  private voiced = false;
  /** Hops of the level dip under way (0: none) and where the tone ends if it does not come back. */
  private dipHops = 0;
  private dipEnd = 0;
  /** Every hop of the dip under way so far still held a pair's tone (see beatDip). */
  private dipHeld = false;
  /**
   * Hops of the candidate (past its onset) whose single lobe is broad: two tones tens of hertz apart, whose
   * level beats. Not the wide lobes of tones 80–125 Hz apart, which are also two harmonics of a low voice.
   */
  private broadHops = 0;
  private readonly beat = new BeatEnvelope();
  /** A candidate that passed, held a few hops for what follows it (a voice carrying on refuses it). */
  private readonly after = new ToneAftermath();

  constructor(opts: BeepOptions = {}) {
    this.minFrequencyHz = opts.minFrequencyHz ?? 300;
    this.maxFrequencyHz = opts.maxFrequencyHz ?? 2500;
    this.minDurationMs = opts.minDurationMs ?? 70;
    this.maxDurationMs = opts.maxDurationMs ?? 1500;
    this.minPurity = opts.minPurity ?? 0.7;
    this.minDbfs = opts.minDbfs ?? -55;
    this.frequencyToleranceHz = opts.frequencyToleranceHz ?? 10;
    this.frequencyTolerance = opts.frequencyTolerance ?? 0.01;
    this.dropDb = opts.dropDb ?? 6;
    this.allowDual = opts.allowDual ?? true;
    this.maxSteps = opts.maxSteps ?? 3;
    this.onsetJumpDb = opts.onsetJumpDb ?? 6;
    if (!(this.onsetJumpDb >= 0)) throw new RangeError('onsetJumpDb must be ≥ 0');
    this.secondPeakDb = opts.secondPeakDb ?? 15;
    if (!(this.secondPeakDb > 0)) throw new RangeError('secondPeakDb must be positive');
    this.secondPeakRatio = 10 ** (-this.secondPeakDb / 10);
    this.levelRangeDb = opts.levelRangeDb ?? 2.5;
    if (!(this.levelRangeDb > 0)) throw new RangeError('levelRangeDb must be positive');
    if (!(this.minFrequencyHz >= (BAND_LO + 2) * BIN_HZ && this.minFrequencyHz < this.maxFrequencyHz)) {
      throw new RangeError(`minFrequencyHz must be ≥ ${(BAND_LO + 2) * BIN_HZ} and below maxFrequencyHz`);
    }
    if (!(this.maxFrequencyHz <= SAMPLE_RATE_HZ / 2 - 4 * BIN_HZ)) throw new RangeError('maxFrequencyHz too close to Nyquist');
    if (!(this.minDurationMs >= 30 && this.minDurationMs < this.maxDurationMs)) {
      throw new RangeError('minDurationMs must be ≥ 30 and below maxDurationMs');
    }
    if (!(this.minPurity > 0.5 && this.minPurity < 1)) throw new RangeError('minPurity must be in (0.5, 1)');
    if (!(this.minDbfs < 0)) throw new RangeError('minDbfs must be negative');
    if (!(this.frequencyToleranceHz > 0) || !(this.frequencyTolerance >= 0 && this.frequencyTolerance < 0.1)) {
      throw new RangeError('frequency tolerances must be positive (relative < 0.1)');
    }
    if (!(this.dropDb > 0)) throw new RangeError('dropDb must be positive');
    if (!(Number.isInteger(this.maxSteps) && this.maxSteps >= 1)) throw new RangeError('maxSteps must be an integer ≥ 1');
    this.minDurationSamples = msToSamples(this.minDurationMs);
    this.maxDurationSamples = msToSamples(this.maxDurationMs);
    this.kMin = Math.floor(this.minFrequencyHz / BIN_HZ) - 1;
    this.kMax = Math.ceil(this.maxFrequencyHz / BIN_HZ) + 1;
    this.power = this.powers[0] as Float64Array;
    this.fft = new FFT(WINDOW);
    this.spectrum = this.fft.createComplexArray();
    for (let i = 0; i < WINDOW; i++) this.hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / WINDOW);
  }

  process(frame: Int16Array): BeepFrame {
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`frame must hold ${FRAME_SAMPLES} samples`);
    const out = this.out;
    out.beep = false;
    for (let off = 0; off < FRAME_SAMPLES; off += HOP) {
      this.hist.copyWithin(0, HOP);
      for (let i = 0; i < HOP; i++) this.hist[WINDOW - HOP + i] = frame[off + i] as number;
      this.samples += HOP;
      if (this.filled < WINDOW) this.filled += HOP;
      this.analyseHop();
      if (this.after.pending) this.judgeAftermath();
      this.track();
    }
    // A beep held for what follows it is still sounding as far as anyone waiting for silence is concerned.
    out.toneActive = (this.inTone && !this.tooLong && this.samples - this.toneStart >= msToSamples(40)) || this.after.pending;
    return out;
  }

  private analyseHop(): void {
    let hopEnergy = 0;
    for (let i = WINDOW - HOP; i < WINDOW; i++) {
      const v = this.hist[i] as number;
      hopEnergy += v * v;
    }
    this.hopLevelDb = meanSquareToDbfs(hopEnergy / HOP);
    this.hopTonal = false;
    this.hopWide = false;
    this.hopBroad = false;
    this.hopHarmonic = false;
    this.hopSpectrum = false;
    this.powerAt = (this.powerAt + 1) % POWER_BUFFERS;
    this.power = this.powers[this.powerAt] as Float64Array;
    this.powerValid[this.powerAt] = false;
    if (this.filled < WINDOW) return;
    // While a beep is held, the hops after it are read whatever their level: a voice carrying on softly
    // is what the hold looks for.
    const quiet = this.hopLevelDb < this.minDbfs;
    if (quiet && !this.after.pending) return;

    for (let i = 0; i < WINDOW; i++) this.windowed[i] = (this.hist[i] as number) * (this.hann[i] as number);
    this.fft.realTransform(this.spectrum, this.windowed);
    this.hopSpectrum = true;
    this.powerValid[this.powerAt] = true;
    const s = this.spectrum;
    const p = this.power;
    let total = 0;
    for (let k = 0; k <= HALF; k++) {
      const re = s[2 * k] as number;
      const im = s[2 * k + 1] as number;
      const v = re * re + im * im;
      p[k] = v;
      if (k >= BAND_LO && k <= BAND_HI) total += v;
    }
    if (quiet || !(total > 0)) return;

    const k1 = this.peakBin(-1, -1, 0);
    const e1 = lobeEnergy(p, k1);
    const f1 = interpolatedHz(p, k1);
    if (!this.inBand(f1)) return;
    const k2 = this.peakBin(k1, -1, LOBE + 1);
    const e2 = lobeEnergy(p, k2);
    // A tone in noise leaves a flat residue; a voiced sound leaves other harmonics. So besides the
    // purity, the next strongest peak must sit `secondPeakDb` below.
    // The flat-residue way out only carries a tone on: a candidate starts on a hop that passes the rule
    // itself (a tone's onset splatters the spectrum evenly, which would read as a flat residue).
    if (e1 >= this.minPurity * total && (e2 <= e1 * this.secondPeakRatio || (this.inTone && flatResidue(e2, total - e1, 1)))) {
      this.hopTonal = true;
      this.hopHarmonic = harmonicPartner(p, f1, e1);
      // Two tones tens of hertz apart fit in one lobe and widen it; their peak swings between them as
      // they beat, their centroid stays.
      const broad = lobeSpreadBins2(p, k1) > BROAD_LOBE_SPREAD;
      this.hopWide = broad;
      this.hopBroad = broad;
      this.hopFreq = broad ? wideCentroidHz(p, k1) : f1;
      this.hopFreq2 = 0;
      return;
    }
    if (!this.allowDual) return;
    // Two tones closer than the lobe exclusion (< ~125 Hz apart) share one wide lobe: take its energy
    // and centroid, which stays steady while the two peaks beat.
    const wide = wideLobeEnergy(p, k1);
    if (wide >= this.minPurity * total && lobeEnergy(p, this.peakBin(k1, -1, WIDE)) <= wide * this.secondPeakRatio * WIDE_STRICTER) {
      const fc = wideCentroidHz(p, k1);
      if (!this.inBand(fc)) return;
      this.hopTonal = true;
      this.hopWide = true;
      this.hopFreq = fc;
      this.hopFreq2 = 0;
      return;
    }
    this.dualTone(p, total, k1, e1, k2, e2, f1);
  }

  /** Two resolved tones (not a DTMF pair); sets the hop's frequencies when found. */
  private dualTone(p: Float64Array, total: number, k1: number, e1: number, k2: number, e2: number, f1: number): boolean {
    // Dual tones: both inside the band, the weaker within 6 dB, together pure, and not a key press.
    if (e1 + e2 < this.minPurity * total || e2 < e1 * 0.25) return false;
    // The third peak is looked for clear of both tones' lobes (a lobe summed 4 bins off a tone that sits
    // between two bins still holds its main-lobe tail, ~18 dB down: it is not a third component).
    const e3 = lobeEnergy(p, this.peakBin(k1, k2, 2 * LOBE + 1));
    // The flat-residue way out (see FLAT_RESIDUE) holds for two resolved tones only: a close "pair" is also
    // a tone's onset splattering its own lobe, or two neighbouring harmonics of a voice (Fish Fillets' Czech
    // voices at 360–410 Hz fired so).
    const f2 = interpolatedHz(p, k2);
    if (e3 > e2 * this.secondPeakRatio && !(Math.abs(k2 - k1) > 2 * WIDE && (flatResidue(e3, total - e1 - e2, 2) || this.carriesPair(f1, f2, e2, e3)))) return false;
    if (!this.inBand(f2)) return false;
    // A pair the DTMF detector would take for a key (its default ±2.5%, between Q.24's accept and reject
    // limits) is a key; one further off (945 + 1171 Hz is 3.1% from '*') is a dual beep.
    if (isDtmfPair(Math.min(f1, f2), Math.max(f1, f2), 0.025)) return false;
    this.hopTonal = true;
    if (Math.abs(k2 - k1) <= 2 * WIDE) {
      // Close pairs are sometimes seen as one wide lobe: describe them the same way (centroid), so a
      // beep does not break into pieces when successive hops see it differently.
      this.hopWide = true;
      this.hopFreq = (f1 * e1 + f2 * e2) / (e1 + e2);
      this.hopFreq2 = 0;
      return true;
    }
    // Keep the pair in frequency order so equal-level tones swapping rank between hops stay one step.
    this.hopFreq = Math.min(f1, f2);
    this.hopFreq2 = Math.max(f1, f2);
    return true;
  }

  /**
   * Whether a hop carries an established dual step on (see CARRIED_THIRD_DB): its two tones are the step's two,
   * and its third lobe, though less than secondPeakDb under them, is still well under.
   */
  private carriesPair(f1: number, f2: number, e2: number, e3: number): boolean {
    if (!this.inTone || this.stepFreq2 === 0 || e3 > e2 * CARRIED_THIRD_RATIO) return false;
    const lo = Math.min(f1, f2);
    const hi = Math.max(f1, f2);
    // Two tones a voice could make (two neighbouring harmonics: f0 and its octave, 377 + 749 Hz in an Asterisk
    // prompt at 10 dB SNR, whose next harmonic was that third lobe) keep the strict rule.
    if (harmonicRatio(lo, hi)) return false;
    return Math.abs(lo - this.stepFreq) <= this.tolerance(this.stepFreq) && Math.abs(hi - this.stepFreq2) <= this.tolerance(this.stepFreq2);
  }

  /** Strongest bin in the whole band, more than `exclusion` bins from `exA` and `exB` (when ≥ 0). */
  private peakBin(exA: number, exB: number, exclusion: number): number {
    const p = this.power;
    const first = exA < 0 ? this.kMin : SEARCH_LO;
    const last = exA < 0 ? this.kMax : BAND_HI;
    let best = first;
    let bestV = -1;
    for (let k = first; k <= last; k++) {
      if (exA >= 0 && Math.abs(k - exA) <= exclusion) continue;
      if (exB >= 0 && Math.abs(k - exB) <= exclusion) continue;
      const v = p[k] as number;
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    return best;
  }

  /** Band check with the frequency tolerance as margin, so a tone right at a band edge counts. */
  private inBand(f: number): boolean {
    return f >= this.minFrequencyHz - this.tolerance(this.minFrequencyHz) && f <= this.maxFrequencyHz + this.tolerance(this.maxFrequencyHz);
  }

  private tolerance(f: number): number {
    return Math.max(this.frequencyToleranceHz, f * this.frequencyTolerance);
  }

  private track(): void {
    const hopEnd = this.samples;
    const preLevel = Math.min(this.levelHist0, this.levelHist1, this.levelHist2);
    this.levelHist2 = this.levelHist1;
    this.levelHist1 = this.levelHist0;
    this.levelHist0 = this.hopLevelDb;
    this.levelRingAt = (this.levelRingAt + 1) % LEVEL_RING;
    this.levelRing[this.levelRingAt] = this.hopLevelDb;
    this.trackFloor();
    if (!this.inTone) {
      if (this.hopTonal) this.startTone(hopEnd, preLevel);
      return;
    }
    if (this.hopLevelDb < this.toneLevelDb - this.dropDb) {
      if (this.beatDip()) return;
      this.endTone(true);
      return;
    }
    const recovering = this.dipHops > 0;
    if (recovering) {
      this.dipHops = 0;
      this.beat.recover();
    }
    // The hop where one step gives way to the next holds both tones in its window: a "pair" with the
    // old step's tone in it is that transition, not a dual tone.
    const transition =
      this.hopTonal &&
      this.hopFreq2 !== 0 &&
      this.stepFreq2 === 0 &&
      Math.min(Math.abs(this.hopFreq - this.stepFreq), Math.abs(this.hopFreq2 - this.stepFreq)) <= this.tolerance(this.stepFreq);
    if (!this.hopTonal || transition) {
      // Bridge a hop or two of mixed spectrum: noise at low SNR, or the step between two tones (up to four
      // once the step is established: see MAX_TRANSITION_HOPS).
      if (this.bridge < (this.stepHops >= MIN_STEP_HOPS ? MAX_TRANSITION_HOPS : MAX_BRIDGE_HOPS) && this.toneHops >= 2) {
        if (this.bridge === 0) this.bridgeEnd = hopEnd - HOP + HOP / 4;
        this.bridge++;
        this.bridgedHops++;
        return;
      }
      this.endTone(false);
      return;
    }
    // A bridge longer than MAX_BRIDGE_HOPS holds only when this hop starts a new step or carries the tone on.
    const longBridge = this.bridge > MAX_BRIDGE_HOPS;
    const bridged = this.bridge;
    const unsteady = this.bridgeUnsteady;
    this.bridge = 0;
    this.bridgeUnsteady = false;
    this.toneHops++;
    if (this.hopBroad) this.broadHops++;
    if (this.hopHarmonic) this.harmonicHops++;
    // A pair's energy centroid wobbles with the noise in either lobe, and a beating pair's peak with its
    // beat: allow it twice the drift.
    const tol = this.tolerance(this.stepFreq) * (this.hopWide || this.broadHops > 0 ? 2 : 1);
    const f = this.hopFreq;
    if (recovering && this.hopFreq2 === 0 && Math.abs(f - this.stepFreq) <= 2 * tol) {
      // The hop coming out of a null still holds it in its window: its frequency is the pair's swing
      // toward the stronger component, not a pitch. It counts for the tone, not for its frequency.
      this.stepHops++;
      this.beat.hop(this.hopLevelDb);
      if (this.hopLevelDb > this.toneLevelDb) this.toneLevelDb = this.hopLevelDb;
      return;
    }
    const sameStep =
      Math.max(this.stepMax, f) - Math.min(this.stepMin, f) <= 1.5 * tol &&
      Math.abs(f - this.stepFreq) <= tol &&
      (this.stepFreq2 === 0) === (this.hopFreq2 === 0) &&
      (this.hopFreq2 === 0 || Math.abs(this.hopFreq2 - this.stepFreq2) <= this.tolerance(this.stepFreq2));
    if (sameStep) {
      this.stepHops++;
      this.recordHop();
      this.beat.hop(this.hopLevelDb);
      const a = 1 / Math.min(this.stepHops, 8);
      this.stepFreq += (f - this.stepFreq) * a;
      if (this.hopFreq2 !== 0) this.stepFreq2 += (this.hopFreq2 - this.stepFreq2) * a;
      if (f < this.stepMin) this.stepMin = f;
      if (f > this.stepMax) this.stepMax = f;
      // The first and the last hop of a step may hold only part of the tone: judge the level on the
      // hops in between (each hop's level is folded in when the next one arrives).
      if (this.stepHops === 3) {
        this.stepLevelMin = this.stepLevelMax = this.pendingLevelDb;
      } else if (this.stepHops > 3) {
        if (this.pendingLevelDb < this.stepLevelMin) this.stepLevelMin = this.pendingLevelDb;
        if (this.pendingLevelDb > this.stepLevelMax) this.stepLevelMax = this.pendingLevelDb;
      }
      this.pendingLevelDb = this.hopLevelDb;
      if (this.hopLevelDb > this.toneLevelDb) this.toneLevelDb = this.hopLevelDb;
      if (!this.tooLong && hopEnd - this.toneStart > this.maxDurationSamples + HOP) this.tooLong = true;
      return;
    }
    const like = this.hopLevelDb - this.toneLevelDb < this.onsetJumpDb;
    if (like && !longBridge && this.steps > 1 && this.stepHops <= MAX_TRANSITION_STEP_HOPS && this.isStepJump(f, this.prevStepFreq)) {
      // The short step was the transition between the last one and this (see MAX_TRANSITION_STEP_HOPS).
      this.toneHops -= this.stepHops;
      this.bridgedHops += this.stepHops;
      this.setStep();
      this.toneLevelDb = this.hopLevelDb;
      return;
    }
    if (like && this.stepHops >= MIN_STEP_HOPS && this.steps < this.maxSteps && !this.tooLong && this.isStepJump(f, this.stepFreq)) {
      // Multi-step beep: a clean jump to another steady frequency at a like level continues the same
      // beep. A much louder tone is a new sound over a steady one (a beep over mains hum, whose
      // odd harmonics can pass for a dual tone): it starts its own candidate below.
      if (this.steps === 1) {
        this.firstStepLevelDb = this.toneLevelDb;
        this.firstStepLevelMinDb = this.stepHops > 3 ? this.stepLevelMin : this.toneLevelDb;
      }
      // This step's last hops hold the next step's onset: no close-partner test (see stepVoiced).
      if (this.stepVoiced(false)) this.voiced = true;
      this.steps++;
      this.prevStepFreq = this.stepFreq;
      this.setStep();
      this.toneLevelDb = this.hopLevelDb;
      return;
    }
    if (like && this.canStep() && bridged < MAX_TRANSITION_HOPS && !recovering) {
      // A tonal hop between two steps' frequencies: the window holding both tones read as one between them
      // (1000 → 900 → 800 Hz, where 900 is no step's jump). Bridged like a non-tonal hop; but unless a new
      // step or the same one follows, the candidate is dropped, as an unsteady hop always dropped it.
      this.unTone();
      if (bridged === 0) this.bridgeEnd = hopEnd - HOP + HOP / 4;
      this.bridge = bridged + 1;
      this.bridgedHops++;
      this.bridgeUnsteady = true;
      return;
    }
    if (longBridge && !unsteady) {
      // Judged as it would have been at the bridge's third hop (then this hop may start a candidate).
      this.endAfterLongBridge();
      return;
    }
    // Not steady: whatever was tracked is not a beep; this hop may start one.
    this.inTone = false;
    this.startTone(hopEnd, preLevel);
  }

  /** The hop after a transition bridge is no new step: the candidate ends where the bridge began. */
  private endAfterLongBridge(): void {
    this.bridge = MAX_BRIDGE_HOPS + 1;
    this.unTone();
    this.endTone(false);
  }

  /** Takes this hop back out of the tone's counts (it is bridged, or after the tone's end). */
  private unTone(): void {
    this.toneHops--;
    if (this.hopBroad) this.broadHops--;
    if (this.hopHarmonic) this.harmonicHops--;
  }

  /** Whether the candidate may take another step (its current one established, steps and length left). */
  private canStep(): boolean {
    return this.stepHops >= MIN_STEP_HOPS && this.steps < this.maxSteps && !this.tooLong;
  }

  /** A clean jump from `from` to `f`: another steady tone, not a glide of speech pitch broken into pieces. */
  private isStepJump(f: number, from: number): boolean {
    return from > 0 && Math.abs(f - from) >= Math.max(MIN_STEP_JUMP_HZ, from * MIN_STEP_JUMP);
  }

  /**
   * Whether this dropped hop is bridged as a beat's null: the first dip hop must still be tonal at the
   * step's frequency, and the level must come back within MAX_DIP_HOPS. A single tone that ends passes
   * through such a hop too, which delays its end by a hop (a pair's, by the whole dip: up to 40 ms).
   */
  private beatDip(): boolean {
    // A pair (broad lobes seen, or a null already bridged) may sink into the noise at its nulls: past the
    // dip's first hop its level does not matter, only whether the tone comes back in time.
    const pair = this.broadHops >= MIN_PAIR_HOPS || this.beat.recovered > 0;
    const floor = Math.max(this.minDbfs, this.preToneLevelDb + DIP_OVER_FLOOR_DB);
    if (this.dipHops > 0 && this.hopLevelDb < floor && !pair) return false;
    const near = this.hopTonal && this.hopFreq2 === 0 && this.stepFreq2 === 0 && Math.abs(this.hopFreq - this.stepFreq) <= 2 * this.tolerance(this.stepFreq);
    if (this.dipHops === 0) {
      if (!near) return false;
      this.dipEnd = this.samples - HOP + HOP / 4;
      this.dipHeld = true;
      this.beat.dip();
    } else if (this.dipHops >= MAX_DIP_HOPS) {
      return false;
    }
    // A pair's null is no end: while the dip's hops are still its tone (tonal at its frequency, well over the
    // line before it), the tone was sounding through them, and if it does not come back it ended after them.
    this.dipHeld = this.dipHeld && this.swingsLikePair() && near && this.hopLevelDb >= Math.max(this.minDbfs, this.presentDb());
    // (A hop still holding it: the tone sounded in it, all through it in a null, or ended in it.)
    if (this.dipHeld) this.dipEnd = this.samples - HOP / 2;
    this.beat.level(this.hopLevelDb);
    this.dipHops++;
    return true;
  }

  private setStep(): void {
    this.stepLevelMin = this.stepLevelMax = this.hopLevelDb;
    this.pendingLevelDb = this.hopLevelDb;
    this.stepFreq = this.hopFreq;
    this.stepFreq2 = this.hopFreq2;
    this.stepMin = this.hopFreq;
    this.stepMax = this.hopFreq;
    this.stepHops = 1;
    this.record.clear();
    this.recordHop();
    this.beat.hop(this.hopLevelDb);
  }

  private recordHop(): void {
    // A wide lobe (two components up to ~310 Hz apart, described by its centroid) is summed apart: a
    // voice's two neighbouring harmonics there show their series in the sum (widePairVoiced).
    this.record.push(this.hopFreq, this.hopLevelDb, this.power, this.hopWide && !this.hopBroad);
  }

  /**
   * Voice evidence in the step just finished (see beepVoicing.ts). `close`: also look for a voice's next
   * harmonic a few bins above the tone — only in a single-step candidate, since a step's last hops hold
   * the next step's onset (SIT's 913.8 → 1370.6 Hz, 800 → 1200 Hz: harmonics of 228 and 200 Hz) — and not in a
   * beating pair, whose mu-law products form a comb of their own.
   */
  private stepVoiced(close: boolean): boolean {
    const r = this.record;
    const n = r.n;
    // A wide lobe's centroid wobbles with the noise in either tone: no pitch to judge there.
    const wander = r.wide > 0 ? 0 : residualRms(r.hz, 0, n);
    // The last hop may hold the tone's end: the level is judged on the others.
    const levelChange = lineChange(r.db, 0, Math.max(0, n - 1));
    const e = lobeEnergy(r.spectrum, Math.round(this.stepFreq / BIN_HZ));
    const comb =
      (r.summed >= 2 &&
        (this.stepFreq2 === 0
          ? harmonicComb(r.spectrum, this.stepFreq, e, this.stepMax - this.stepMin, close && this.broadHops < MIN_PAIR_HOPS)
          : harmonicPair(r.spectrum, this.stepFreq, this.stepFreq2, e))) ||
      // Two components 70–310 Hz apart seen as one wide lobe: two harmonics of a low voice show theirs.
      (r.wideSummed >= 2 && widePairVoiced(r.wideSpectrum, this.stepFreq)) ||
      // A low voice's harmonic boosted by its first formant, its lower neighbours unresolved beside it.
      (close && r.summed >= 1 && this.stepFreq2 === 0 && lowerSeriesDb(r.spectrum, this.stepFreq, this.stepMax - this.stepMin) > LOWER_SERIES_DB);
    // A pair's level swings with its beat (a 40 Hz beat moves 10 ms hop levels by up to 8.6 dB, even before a
    // null deep enough to bridge shows): its crests are judged at the candidate's end instead (levelRange in
    // endTone). A voice's swell rises and fades without swinging back.
    const levelMoves = !this.beat.beating() && !this.swingsLikePair() && r.wide === 0 && Math.abs(levelChange) > MAX_LEVEL_CHANGE_DB;
    return comb || wander > Math.max(MAX_WANDER_HZ, MAX_WANDER * this.stepFreq) || levelMoves || this.glides();
  }

  /**
   * Room the line's noise adds to a steady tone's level range (dB, see NOISE_RANGE_DB): ~0 on a quiet
   * line, 0.7 dB at 20 dB SNR, 2.3 dB at 9 dB. The noise is read from the line's floor (its quietest hop, ~2 dB under a
   * typical one), so a voice rising out of a quiet pause gains nothing.
   */
  private noiseRangeDb(): number {
    const n = Math.min(this.floorAtStartDb + FLOOR_TO_NOISE_DB, this.preToneLevelDb);
    return NOISE_RANGE_DB * Math.sqrt(10 ** ((n - this.toneLevelDb) / 10));
  }

  /**
   * The candidate's level swings as two close tones' beat does: broad lobes (two components in one) and
   * a null it came back from or a swing of the level down and up again (BeatEnvelope.swung). Then its
   * 10 ms levels say little about where it starts and ends, whether it holds its level or how it rose (see
   * beatDip, stepVoiced, findRise); a voice's gliding harmonic that broadens a lobe swells and fades instead.
   */
  private swingsLikePair(): boolean {
    return this.broadHops >= MIN_PAIR_HOPS && (this.beat.recovered > 0 || this.beat.swung);
  }

  /**
   * A hop this loud still holds the tone (dB): PRESENT_OVER_LINE_DB over the line before it — the hop the
   * level rose from (a pair's first tonal hop may come a null after its onset, so the three hops before that
   * one may hold the tone) or else those three — and over a typical hop of the line's noise.
   */
  private presentDb(): number {
    const line = this.riseLineDb > -Infinity ? this.riseLineDb : this.preToneLevelDb;
    return Math.max(line, this.floorAtStartDb + FLOOR_TO_NOISE_DB) + PRESENT_OVER_LINE_DB;
  }

  /** Whether the step's single tone (or wide lobe's centroid) glided (see MAX_GLIDE_HZ). */
  private glides(): boolean {
    const r = this.record;
    if (r.n < 3 || this.stepFreq2 !== 0) return false;
    // A wide lobe's centroid (two components 60–310 Hz apart) wobbles with the noise in either: twice the room.
    const room = r.wide > 0 ? 2 : 1;
    const drift = Math.abs(lineChange(r.hz, 0, r.n));
    const rate = (drift * SAMPLE_RATE_HZ) / ((r.n - 1) * HOP);
    return drift > room * Math.max(MAX_GLIDE_HZ, MAX_GLIDE * this.stepFreq) && rate > room * MAX_GLIDE_RATE_HZ_PER_S;
  }

  private startTone(hopEnd: number, preLevel: number): void {
    this.inTone = true;
    this.tooLong = false;
    this.bridge = 0;
    this.bridgeUnsteady = false;
    // A hop turns tonal once the tone fills most of the window (its abrupt onset splatters the
    // spectrum while it sits in the window's middle): measured, that is ~17 ms after the onset.
    this.toneStart = hopEnd - ONSET_LAG;
    this.findRise(hopEnd);
    // The window of the hop two before this one ends ~3 ms before the onset: the line as it was.
    const before = (this.powerAt + POWER_BUFFERS - 2) % POWER_BUFFERS;
    this.preToneValid = this.powerValid[before] === true;
    if (this.preToneValid) this.preTone.set(this.powers[before] as Float64Array);
    this.onsetNarrowDb = this.narrowJumpDb();
    let floor = Infinity;
    for (let i = 0; i < FLOOR_BLOCKS; i++) floor = Math.min(floor, this.floorBlocks[i] as number);
    this.floorAtStartDb = floor;
    this.lateRefDb = NaN;
    this.lateToneValid = false;
    for (let k = LATE_MIN_HOPS; k <= LATE_MAX_HOPS; k++) {
      const v = this.levelRing[(this.levelRingAt + LEVEL_RING - k) % LEVEL_RING] as number;
      // A slot not yet written (the call's first hops) is no line heard.
      if (!(v > -Infinity) || v - floor > NARROW_ONSET_OVER_FLOOR_DB) continue;
      this.lateRefDb = v;
      // Hops k − 2 … 1 back: past the one the onset fell in.
      this.lateMidMinDb = Infinity;
      this.lateMidMaxDb = -Infinity;
      for (let j = 1; j <= k - 2; j++) {
        const m = this.levelRing[(this.levelRingAt + LEVEL_RING - j) % LEVEL_RING] as number;
        this.lateMidMinDb = Math.min(this.lateMidMinDb, m);
        this.lateMidMaxDb = Math.max(this.lateMidMaxDb, m);
      }
      const at = (this.powerAt + POWER_BUFFERS - k) % POWER_BUFFERS;
      this.lateToneValid = this.powerValid[at] === true;
      if (this.lateToneValid) this.lateTone.set(this.powers[at] as Float64Array);
      break;
    }
    this.beat.clear();
    // The hops the level rose to before the tone turned tonal already swing with a pair's beat.
    for (let i = this.riseHops; i >= 1; i--) this.beat.level(this.levelRing[(this.levelRingAt + LEVEL_RING - i) % LEVEL_RING] as number);
    this.dipHops = 0;
    // The onset hop's lobe is smeared by the tone's start: it says nothing about a pair.
    this.broadHops = 0;
    this.setStep();
    this.steps = 1;
    this.prevStepFreq = 0;
    this.toneHops = 1;
    this.harmonicHops = this.hopHarmonic ? 1 : 0;
    this.bridgedHops = 0;
    this.voiced = false;
    this.toneLevelDb = this.hopLevelDb;
    this.preToneLevelDb = preLevel;
  }

  /**
   * The level's rise to the tone: the earliest of the last LATE_MAX_HOPS hops that lay at the line's noise
   * (within RISE_LINE_OVER_FLOOR_DB of its floor, and onsetJumpDb under the loudest hop since) with every hop
   * after it holding more than the line (PRESENT_OVER_LINE_DB). The tone began in the hop after that one
   * (taken at its middle). A pair is not tonal in its nulls, so its first tonal hop may come a null or two
   * after its onset; the level shows where it began. (The earliest: a null hop at 9 dB SNR sits as low as
   * pink noise's louder hops, but a null has the tone's hops on both sides of it.)
   */
  private findRise(hopEnd: number): void {
    this.riseStart = NaN;
    this.riseLineDb = NaN;
    this.riseHops = 0;
    let floor = Infinity;
    for (let i = 0; i < FLOOR_BLOCKS; i++) floor = Math.min(floor, this.floorBlocks[i] as number);
    let loudest = this.hopLevelDb;
    let quietest = Infinity;
    let riseAt = 0;
    for (let j = 1; j <= LATE_MAX_HOPS; j++) {
      const v = this.levelRing[(this.levelRingAt + LEVEL_RING - j) % LEVEL_RING] as number;
      if (!(v > -Infinity)) break;
      const line = v - floor <= RISE_LINE_OVER_FLOOR_DB && loudest - v >= this.onsetJumpDb;
      if (line && quietest >= Math.max(v, floor + FLOOR_TO_NOISE_DB) + PRESENT_OVER_LINE_DB) {
        this.riseStart = hopEnd - j * HOP + HOP / 2;
        this.riseLineDb = v;
        this.riseHops = j - 1;
        riseAt = j;
      }
      loudest = Math.max(loudest, v);
      quietest = Math.min(quietest, v);
    }
    // The line's spectrum there, for the aftermath and lead-in tests of a candidate whose onset is this rise.
    const at = (this.powerAt + POWER_BUFFERS - riseAt) % POWER_BUFFERS;
    this.riseToneValid = riseAt > 0 && this.powerValid[at] === true;
    if (this.riseToneValid) this.riseTone.set(this.powers[at] as Float64Array);
  }

  /** Folds this hop's level into the floor's current block (digital silence counts as -120 dBFS). */
  private trackFloor(): void {
    if (this.floorBlockHops === FLOOR_BLOCK_HOPS) {
      this.floorBlockAt = (this.floorBlockAt + 1) % FLOOR_BLOCKS;
      this.floorBlocks[this.floorBlockAt] = Infinity;
      this.floorBlockHops = 0;
    }
    this.floorBlockHops++;
    const v = Math.max(this.hopLevelDb, -120);
    if (v < (this.floorBlocks[this.floorBlockAt] as number)) this.floorBlocks[this.floorBlockAt] = v;
  }

  /**
   * This hop's tone lobe over the same lobe in the oldest kept spectrum (dB). A quiet hop there (no FFT)
   * or an empty lobe: the tone rose out of silence.
   */
  private narrowJumpDb(): number {
    const k = Math.round(this.hopFreq / BIN_HZ);
    const now = lobeEnergy(this.power, k);
    const ref = (this.powerAt + POWER_BUFFERS - NARROW_REF_HOPS) % POWER_BUFFERS;
    if (this.powerValid[ref] !== true) return Infinity;
    const then = lobeEnergy(this.powers[ref] as Float64Array, k);
    return then > 0 ? 10 * Math.log10(now / then) : Infinity;
  }

  /** `dropped`: the level fell (silence or noise after the tone) rather than the spectrum changing. */
  private endTone(dropped: boolean): void {
    this.inTone = false;
    // The tone stopped within the current hop (a quarter into it matches a drop of ≥ 6 dB), or where
    // a bridged gap began.
    const end = this.dipHops > 0 ? this.dipEnd : this.bridge > 0 ? this.bridgeEnd : this.samples - HOP + HOP / 4;
    // An unsteady hop the bridge held in case a new step followed: none did, so the candidate is dropped.
    const unsteady = this.bridgeUnsteady && this.bridge > 0;
    this.bridgeUnsteady = false;
    this.bridge = 0;
    this.dipHops = 0;
    // A pair's edges hide in its nulls: where the level rose out of the line tells its start better.
    const start = this.swingsLikePair() && this.riseStart < this.toneStart ? this.riseStart : this.toneStart;
    const duration = end - start;
    const tonalHops = this.toneHops;
    if (unsteady || this.tooLong || tonalHops < 3 || duration < this.minDurationSamples - DURATION_SLACK) return this.restartAfterEnd(dropped);
    // Noise may spoil the odd hop of a beep; a sound that is tonal only now and then is not a beep.
    if (this.bridgedHops * MAX_BRIDGED_SHARE_INV > tonalHops + this.bridgedHops) return this.restartAfterEnd(dropped);
    // A step is a tone of its own: a last "step" of a hop or two after an established one is the next sound's
    // start (a voice's harmonic moving on), not a beep's second tone.
    if (this.steps > 1 && this.stepHops < MIN_LAST_STEP_HOPS) return this.restartAfterEnd(dropped);
    if (duration > this.maxDurationSamples) return this.restartAfterEnd(dropped);
    // A voice's strongest harmonic can pass for a pure tone, but its neighbours at 2f or f/2 stand out
    // of the noise floor in most hops; a beep (even through mu-law, whose distortion is odd) has none.
    if (this.harmonicHops >= MIN_HARMONIC_HOPS && this.harmonicHops * HARMONIC_SHARE_INV >= tonalHops) return this.restartAfterEnd(dropped);
    // The whole candidate, step by step: a harmonic series, a wandering pitch or a moving level is a voice.
    if (this.voiced || this.stepVoiced(this.steps === 1)) return this.restartAfterEnd(dropped);
    // A beep holds its level (a close pair beats faster than a hop, so its hop level is steady too);
    // a voiced sound swells and fades.
    // The last hop may be cut short (quieter), but never louder: a louder one counts.
    const levelMax = Math.max(this.stepLevelMax, this.stepHops > 2 ? this.pendingLevelDb : -Infinity);
    // A beating pair's level swings by design: its crests between the nulls must hold instead. Over a long
    // tone in noise the crest moves with the noise as a single tone's level does (NOISE_RANGE_DB): a 1 s
    // 440 + 480 Hz beep 6 dB over white noise spanned 3 dB.
    const plainRange = !this.beat.beating() && this.broadHops === 0;
    const levelRange = this.beat.beating() ? this.beat.crestRangeDb() : this.broadHops > 0 ? this.beat.runningCrestRangeDb() : levelMax - this.stepLevelMin;
    if (levelRange > this.levelRangeDb + ((plainRange || this.swingsLikePair()) && duration >= NOISE_RANGE_MIN_SAMPLES ? this.noiseRangeDb() : 0)) return this.restartAfterEnd(dropped);
    // Beeps start abruptly out of quieter audio; a harmonic that comes to dominate mid-vowel does not.
    const firstLevel = this.steps === 1 ? this.toneLevelDb : this.firstStepLevelDb;
    // Broadband, a quiet beep in white noise rises only 5–7 dB (its power is in one lobe, the noise's over
    // the band), so at some frame alignments it fell short of the 6 dB by chance: in its own lobe it rises
    // 20 dB or more out of the line's floor.
    const broadJump = firstLevel - this.preToneLevelDb;
    const narrowOnset = this.onsetNarrowDb >= NARROW_ONSET_DB && broadJump >= NARROW_ONSET_MIN_BROAD_DB && this.preToneLevelDb - this.floorAtStartDb <= NARROW_ONSET_OVER_FLOOR_DB;
    const late = broadJump < this.onsetJumpDb && !narrowOnset && this.lateOnset(firstLevel);
    // A pair's first tonal hop may come a null or two after its onset, and the hops between swing with its
    // beat rather than sit at its level (the late rule's test): its rise out of the line is its onset.
    const risen = broadJump < this.onsetJumpDb && !narrowOnset && !late && this.swingsLikePair() && firstLevel - this.riseLineDb >= this.onsetJumpDb;
    if (broadJump < this.onsetJumpDb && !narrowOnset && !late && !risen) return this.restartAfterEnd(dropped);
    // Passed: held for what follows it (beepAftermath.ts).
    const r = this.record;
    const tone = r.wideSummed > r.summed ? r.wideSpectrum : r.spectrum;
    const a = this.after;
    // A late onset's line is the hop the rule found, not the hops holding the tone's start.
    const pre = late ? (this.lateToneValid ? this.lateTone : null) : risen ? (this.riseToneValid ? this.riseTone : null) : this.preToneValid ? this.preTone : null;
    // The line it rose out of, as the onset rules read it (never under a typical hop of the line's noise).
    const lineDb = Math.max(late ? this.lateRefDb : risen ? this.riseLineDb : this.preToneLevelDb, this.floorAtStartDb + FLOOR_TO_NOISE_DB);
    a.hold(Math.round(this.stepFreq), duration, end, this.toneLevelDb, tone, Math.max(r.wideSummed, r.summed), this.stepFreq, this.stepFreq2, pre, lineDb);
    // A short tone whose harmonic was already there, glided, a hop before its onset is a voice's.
    if (duration < LEAD_IN_MAX_SAMPLES && firstLevel - (late ? this.lateRefDb : risen ? this.riseLineDb : this.preToneLevelDb) < LEAD_IN_JUMP_DB && a.ledIn()) {
      a.clear();
      return this.restartAfterEnd(dropped);
    }
    // The hops since the end (a dip taken for a beat's null delays the end by up to four) count already.
    // (A voice's tail, still well over the line in the hops after the end, refuses it there: `pending` goes.)
    if (a.level(this.levelHist2, this.samples - 2 * HOP, HOP) === 'beep' || a.level(this.levelHist1, this.samples - HOP, HOP) === 'beep') this.signal();
    else if (!a.pending) return this.restartAfterEnd(dropped);
    else if (this.hopSpectrum) this.judgeAftermath();
    else if (a.level(this.hopLevelDb, this.samples, HOP) === 'beep') this.signal();
    this.restartAfterEnd(dropped);
  }

  /**
   * The late onset rule (see LATE_MIN_HOPS): the tone rose the onset rule's jump over the line's hop found
   * when the candidate started, and the hops since, but the one its onset fell in, were already at its level.
   */
  private lateOnset(firstLevel: number): boolean {
    if (!(firstLevel - this.lateRefDb >= this.onsetJumpDb)) return false;
    const steady = this.steps === 1 ? (this.stepHops > 3 ? this.stepLevelMin : this.toneLevelDb) : this.firstStepLevelMinDb;
    return this.lateMidMinDb >= steady - LATE_FLAT_DB && this.lateMidMaxDb <= firstLevel;
  }

  /** A hop after a held beep: signal it once nothing carried the tone on, drop it if a voice did. */
  private judgeAftermath(): void {
    const v = this.after.hop(this.hopLevelDb, this.power, this.samples, HOP, WINDOW);
    if (v === 'beep') this.signal();
  }

  private signal(): void {
    const a = this.after;
    const out = this.out;
    out.beep = true;
    out.frequencyHz = a.frequencyHz;
    out.durationSamples = a.durationSamples;
    out.endSample = a.endSample;
  }

  /** A tonal hop right after the end (another sound starting) may begin the next candidate. */
  private restartAfterEnd(dropped: boolean): void {
    if (!dropped && this.hopTonal) this.startTone(this.samples, this.levelHist1);
  }

  reset(): void {
    this.hist.fill(0);
    this.samples = 0;
    this.filled = 0;
    this.inTone = false;
    this.tooLong = false;
    this.toneStart = 0;
    this.riseStart = NaN;
    this.riseLineDb = NaN;
    this.riseHops = 0;
    this.riseTone.fill(0);
    this.riseToneValid = false;
    this.stepFreq = 0;
    this.stepFreq2 = 0;
    this.stepHops = 0;
    this.steps = 0;
    this.toneLevelDb = -Infinity;
    this.preToneLevelDb = -Infinity;
    this.stepMin = 0;
    this.stepMax = 0;
    this.bridge = 0;
    this.bridgeEnd = 0;
    this.bridgeUnsteady = false;
    this.hopWide = false;
    this.hopBroad = false;
    this.hopSpectrum = false;
    this.stepLevelMin = 0;
    this.stepLevelMax = 0;
    this.toneHops = 0;
    this.harmonicHops = 0;
    this.hopHarmonic = false;
    this.bridgedHops = 0;
    this.record.clear();
    this.voiced = false;
    this.dipHops = 0;
    this.dipEnd = 0;
    this.dipHeld = false;
    this.broadHops = 0;
    this.beat.clear();
    this.after.clear();
    this.levelHist0 = this.levelHist1 = this.levelHist2 = -Infinity;
    this.hopTonal = false;
    this.hopFreq = 0;
    this.hopFreq2 = 0;
    this.hopLevelDb = 0;
    this.pendingLevelDb = 0;
    this.firstStepLevelDb = 0;
    this.prevStepFreq = 0;
    this.levelRing.fill(-Infinity);
    this.levelRingAt = 0;
    this.lateRefDb = NaN;
    this.lateMidMinDb = 0;
    this.lateMidMaxDb = 0;
    this.lateTone.fill(0);
    this.lateToneValid = false;
    this.firstStepLevelMinDb = 0;
    this.windowed.fill(0);
    for (const p of this.powers) p.fill(0);
    this.powerValid.fill(false);
    this.powerAt = 0;
    this.power = this.powers[0] as Float64Array;
    this.onsetNarrowDb = 0;
    this.floorBlocks.fill(Infinity);
    this.floorBlockAt = 0;
    this.floorBlockHops = 0;
    this.floorAtStartDb = -Infinity;
    this.preTone.fill(0);
    this.preToneValid = false;
    const out = this.out;
    out.beep = false;
    out.frequencyHz = 0;
    out.durationSamples = 0;
    out.endSample = 0;
    out.toneActive = false;
  }
}
