// Keypad presses on an agent call become one user turn ("DTMF: 1234#"): digits gather until `#` or
// until the inter-digit gap passes on the media clock.
import type { MediaTimer } from './mediaTimers.ts';

export class DtmfCollector {
  private digits = '';
  private readonly timer: MediaTimer;
  private readonly interDigitMs: number;
  private readonly onDigits: (digits: string) => void;

  constructor(timer: MediaTimer, interDigitMs: number, onDigits: (digits: string) => void) {
    this.timer = timer;
    this.interDigitMs = interDigitMs;
    this.onDigits = onDigits;
  }

  press(digit: string): void {
    this.digits += digit;
    if (digit === '#') this.flush();
    else this.timer.set(this.interDigitMs, () => this.flush());
  }

  private flush(): void {
    const digits = this.digits;
    this.digits = '';
    this.timer.clear();
    if (digits !== '') this.onDigits(digits);
  }
}
