// Business hours of a department: weekday ranges in the department's IANA time zone, read through
// Intl.DateTimeFormat (the runtime's tz database, so DST changes need no code). A range whose end is
// not after its start runs past midnight ("22:00-02:00" is open Monday 22:00 to Tuesday 02:00).
// This is calendar time on purpose: opening hours are about the wall clock, not the media clock.
import type { Department, Weekday } from './types.ts';

export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
export const RANGE = /^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$/;

interface LocalTime {
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
  /** YYYY-MM-DD in the zone. */
  date: string;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function localTime(at: Date, timeZone: string): LocalTime {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = get('weekday').slice(0, 3).toLowerCase() as Weekday;
  return {
    weekday,
    minutes: Number(get('hour')) * 60 + Number(get('minute')),
    date: `${get('year')}-${get('month')}-${get('day')}`,
  };
}

function parseRange(range: string): [number, number] | undefined {
  const m = RANGE.exec(range);
  if (m === null) return undefined;
  return [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])];
}

/** Is the department open at `at`? No `hours` means always open. */
export function isOpen(dept: Pick<Department, 'timeZone' | 'hours' | 'closedDates'>, at: Date): boolean {
  const local = localTime(at, dept.timeZone);
  if (dept.closedDates?.includes(local.date) === true) return false;
  if (dept.hours === undefined) return true;
  const today = dept.hours[local.weekday] ?? [];
  for (const r of today) {
    const range = parseRange(r);
    if (range === undefined) continue;
    const [start, end] = range;
    if (end > start ? local.minutes >= start && local.minutes < end : local.minutes >= start) return true;
  }
  // Overnight ranges that started yesterday.
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(local.weekday) + 6) % 7] as Weekday;
  for (const r of dept.hours[yesterday] ?? []) {
    const range = parseRange(r);
    if (range === undefined) continue;
    const [start, end] = range;
    if (end <= start && local.minutes < end) return true;
  }
  return false;
}
