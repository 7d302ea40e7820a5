// Calling windows in the contact's local time: the campaign's days and hours, always clamped inside
// the legal 08:00–21:00 (47 CFR 64.1200(c)(1); FTC TSR 16 CFR 310.4(c)). Local time comes from
// Intl (the runtime's IANA tz database), so daylight-saving changes are handled by the zone rules.
import { LEGAL_WINDOW, WEEKDAYS, type CallingWindow, type Weekday } from './settings.ts';

interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    // Bounded: zones are a finite list, but a cache must never grow without limit.
    if (formatters.size > 1000) formatters.clear();
    formatters.set(tz, f);
  }
  return f;
}

export function localTime(at: Date, tz: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(at)) parts[p.type] = p.value;
  const weekday = (parts.weekday ?? 'Mon').slice(0, 3).toLowerCase() as Weekday;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** The window's minutes, clamped inside the legal hours. */
function effectiveMinutes(window: CallingWindow): { start: number; end: number } {
  return { start: Math.max(toMinutes(window.start), toMinutes(LEGAL_WINDOW.start)), end: Math.min(toMinutes(window.end), toMinutes(LEGAL_WINDOW.end)) };
}

export function isWithinWindow(at: Date, tz: string, window: CallingWindow): boolean {
  const local = localTime(at, tz);
  const { start, end } = effectiveMinutes(window);
  return window.days.includes(local.weekday) && local.minutes >= start && local.minutes < end;
}

/** UTC instant of a local wall time in `tz` (two passes settle the zone offset, DST included). */
function instantOf(year: number, month: number, day: number, minutes: number, tz: string): Date {
  const wall = Date.UTC(year, month - 1, day, Math.floor(minutes / 60), minutes % 60);
  let guess = wall;
  for (let i = 0; i < 2; i++) {
    const l = localTime(new Date(guess), tz);
    const seen = Date.UTC(l.year, l.month - 1, l.day, Math.floor(l.minutes / 60), l.minutes % 60);
    guess += wall - seen;
  }
  return new Date(guess);
}

/** The next time the window opens at or after `at` (itself when open), or undefined if it never does. */
export function nextWindowOpening(at: Date, tz: string, window: CallingWindow): Date | undefined {
  if (isWithinWindow(at, tz, window)) return at;
  const { start, end } = effectiveMinutes(window);
  if (start >= end) return undefined;
  const today = localTime(at, tz);
  for (let d = 0; d <= 7; d++) {
    const noon = new Date(Date.UTC(today.year, today.month - 1, today.day + d, 12));
    const weekday = WEEKDAYS[(noon.getUTCDay() + 6) % 7] as Weekday;
    if (!window.days.includes(weekday)) continue;
    const opening = instantOf(noon.getUTCFullYear(), noon.getUTCMonth() + 1, noon.getUTCDate(), start, tz);
    if (opening.getTime() > at.getTime()) return opening;
  }
  return undefined;
}
