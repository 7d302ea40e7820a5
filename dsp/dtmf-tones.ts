// The DTMF frequency grid (ITU-T Q.23): four row (low-group) and four column (high-group) tones.
// Shared by the DTMF detector and the beep detector, which must not mistake a key press for a beep.
export const DTMF_ROWS_HZ = [697, 770, 852, 941] as const;
export const DTMF_COLS_HZ = [1209, 1336, 1477, 1633] as const;
export const DTMF_KEYS = ['123A', '456B', '789C', '*0#D'] as const;

/**
 * True when `lowHz`/`highHz` sit within `tolerance` (relative) of some row and column pair.
 * Used to reject key presses as beeps, so the tolerance is generous (Q.24 rejects only beyond ±3.5%).
 */
export function isDtmfPair(lowHz: number, highHz: number, tolerance: number): boolean {
  let row = false;
  for (const f of DTMF_ROWS_HZ) if (Math.abs(lowHz - f) <= f * tolerance) row = true;
  if (!row) return false;
  for (const f of DTMF_COLS_HZ) if (Math.abs(highHz - f) <= f * tolerance) return true;
  return false;
}
