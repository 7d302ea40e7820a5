// A contact's time zone: the import's column, else the number (its country when the country has one
// zone — from @vvo/tzdb, the IANA database's zones with their countries — or its North American area
// code, see nanpZones.ts), else the campaign's zone. The rule used is kept and reported.
import { getTimeZones } from '@vvo/tzdb';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { nanpZone } from './nanpZones.ts';

export type TimezoneSource = 'column' | 'number' | 'campaign';

let zonesByCountry: Map<string, string[]> | undefined;

function countryZones(country: string): string[] {
  if (zonesByCountry === undefined) {
    zonesByCountry = new Map();
    for (const z of getTimeZones({ includeUtc: false })) {
      const list = zonesByCountry.get(z.countryCode) ?? [];
      list.push(z.name);
      zonesByCountry.set(z.countryCode, list);
    }
  }
  return zonesByCountry.get(country) ?? [];
}

/** Zone of an E.164 number, when its country or area code settles it. */
export function zoneFromNumber(e164: string): string | undefined {
  const nanp = nanpZone(e164);
  if (nanp !== undefined) return nanp;
  const country = parsePhoneNumberFromString(e164)?.country;
  if (country === undefined) return undefined;
  const zones = countryZones(country);
  return zones.length === 1 ? zones[0] : undefined;
}

export function resolveTimezone(e164: string, column: string | undefined, campaignZone: string): { timezone: string; source: TimezoneSource } {
  if (column !== undefined) return { timezone: column, source: 'column' };
  const fromNumber = zoneFromNumber(e164);
  if (fromNumber !== undefined) return { timezone: fromNumber, source: 'number' };
  return { timezone: campaignZone, source: 'campaign' };
}
