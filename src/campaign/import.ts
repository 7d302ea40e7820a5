// Contact import: CSV streamed through csv-parse (never loaded whole) or a JSON list, normalized to
// E.164 with libphonenumber-js and the campaign's default country, written in batches of one
// multi-row INSERT each. Invalid rows are reported by line with the reason; valid rows are kept;
// duplicates within the campaign are merged (the first one stays); numbers on the do-not-call list
// are kept but marked and never dialed.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Queryable } from '../store/db.ts';
import { CONSENT_LEVELS, isValidTimeZone, type ConsentLevel } from './settings.ts';
import { resolveTimezone, type TimezoneSource } from './timezones.ts';

export interface ImportProblem {
  line: number;
  reason: string;
  field?: string;
  value?: string;
}

export interface ImportReport {
  accepted: number;
  invalid: number;
  duplicate: number;
  doNotCall: number;
  timezoneSources: Record<TimezoneSource, number>;
  /** The first MAX_PROBLEMS problems, by line. */
  problems: ImportProblem[];
}

/** One contact as it comes in (a CSV row's columns, or a JSON item). */
export interface RawContact {
  phone?: unknown;
  name?: unknown;
  priority?: unknown;
  timezone?: unknown;
  consent?: unknown;
  consentSource?: unknown;
  consentAt?: unknown;
  variables?: Record<string, unknown>;
}

interface Normalized {
  id: string;
  phone: string;
  name: string | null;
  priority: number;
  timezone: string;
  timezoneSource: TimezoneSource;
  variables: string;
  consent: ConsentLevel;
  consentSource: string | null;
  consentAt: Date | null;
  line: number;
}

export const MAX_PROBLEMS = 100;
const BATCH = 1000;
/** Columns with a meaning of their own; every other column becomes a flow variable. */
const KNOWN = new Map<string, keyof RawContact>([
  ['phone', 'phone'],
  ['name', 'name'],
  ['priority', 'priority'],
  ['timezone', 'timezone'],
  ['consent', 'consent'],
  ['consentsource', 'consentSource'],
  ['consent_source', 'consentSource'],
  ['consentat', 'consentAt'],
  ['consent_at', 'consentAt'],
]);
/** A variable name a template can reach (`{{vars.firstName}}`) and no prototype key. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor', 'contact']);

export interface ImportOptions {
  campaignId: string;
  defaultCountry: string;
  campaignTimezone: string;
  /** Rows beyond it are reported invalid; default 1,000,000. */
  maxRows?: number;
}

type Problem = Omit<ImportProblem, 'line'>;

function str(v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

export function normalizeContact(raw: RawContact, line: number, opts: ImportOptions): Normalized | Problem {
  const phoneText = str(raw.phone);
  if (phoneText === undefined) return { field: 'phone', reason: 'phone is required' };
  const parsed = parsePhoneNumberFromString(phoneText, { defaultCountry: opts.defaultCountry as CountryCode });
  if (parsed === undefined || !parsed.isValid()) return { field: 'phone', value: phoneText, reason: `not a valid phone number (default country ${opts.defaultCountry})` };
  let priority = 0;
  const p = str(raw.priority);
  if (p !== undefined) {
    priority = Number(p);
    if (!Number.isInteger(priority) || priority < -1000 || priority > 1000) return { field: 'priority', value: p, reason: 'priority must be a whole number from -1000 to 1000' };
  }
  const tzColumn = str(raw.timezone);
  if (tzColumn !== undefined && !isValidTimeZone(tzColumn)) return { field: 'timezone', value: tzColumn, reason: 'not an IANA time zone (e.g. America/Chicago)' };
  const consentText = (str(raw.consent) ?? 'none').toLowerCase();
  if (!(CONSENT_LEVELS as readonly string[]).includes(consentText)) return { field: 'consent', value: consentText, reason: `consent must be one of ${CONSENT_LEVELS.join(', ')}` };
  const consentAtText = str(raw.consentAt);
  const consentAt = consentAtText === undefined ? null : new Date(consentAtText);
  if (consentAt !== null && !Number.isFinite(consentAt.getTime())) return { field: 'consentAt', value: consentAtText, reason: 'consentAt must be an ISO 8601 date' };
  const variables: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw.variables ?? {})) {
    if (!VARIABLE_NAME.test(k) || FORBIDDEN.has(k)) return { field: k, reason: `column "${k}" cannot be a flow variable name (letters, digits, _; not ${[...FORBIDDEN].join(', ')})` };
    variables[k] = v;
  }
  const name = str(raw.name) ?? null;
  const variablesJson = JSON.stringify(variables);
  if (variablesJson.length > 8192) return { field: 'variables', reason: 'the row\'s variables exceed 8 KiB' };
  const phone = parsed.number;
  const tz = resolveTimezone(phone, tzColumn, opts.campaignTimezone);
  return {
    id: randomUUID(),
    phone,
    name: name === null ? null : name.slice(0, 200),
    priority,
    timezone: tz.timezone,
    timezoneSource: tz.source,
    variables: variablesJson,
    consent: consentText as ConsentLevel,
    consentSource: str(raw.consentSource)?.slice(0, 200) ?? null,
    consentAt,
    line,
  };
}

/** A CSV row (header → value) as a RawContact: known columns by name, the rest as variables. */
function fromCsvRow(row: Record<string, string>): RawContact {
  const out: RawContact = { variables: {} };
  for (const [header, value] of Object.entries(row)) {
    const known = KNOWN.get(header.trim().toLowerCase());
    if (known !== undefined && known !== 'variables') out[known] = value;
    else if (value !== '') (out.variables as Record<string, unknown>)[header.trim()] = value;
  }
  return out;
}

class ImportWriter {
  readonly report: ImportReport = { accepted: 0, invalid: 0, duplicate: 0, doNotCall: 0, timezoneSources: { column: 0, number: 0, campaign: 0 }, problems: [] };
  private batch: Normalized[] = [];
  private readonly db: Queryable;
  private readonly opts: ImportOptions;

  constructor(db: Queryable, opts: ImportOptions) {
    this.db = db;
    this.opts = opts;
  }

  problem(line: number, p: Problem): void {
    this.report.invalid++;
    if (this.report.problems.length < MAX_PROBLEMS) this.report.problems.push({ line, ...p });
  }

  async add(raw: RawContact, line: number): Promise<void> {
    const n = normalizeContact(raw, line, this.opts);
    if ('reason' in n) return this.problem(line, n);
    this.batch.push(n);
    if (this.batch.length >= BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    const rows = this.batch;
    this.batch = [];
    if (rows.length === 0) return;
    // One statement per batch: rows whose number is already in the campaign (or earlier in this
    // batch) are merged into the existing contact, and the do-not-call list marks rows at once.
    const { rows: inserted } = await this.db.query<{ state: string; timezone_source: TimezoneSource }>(
      `INSERT INTO campaign_contacts (id, campaign_id, phone, name, priority, timezone, timezone_source, variables, consent, consent_source, consent_at, source_line, state)
       SELECT u.id, $1, u.phone, u.name, u.priority, u.timezone, u.tz_source, u.variables::jsonb, u.consent, u.consent_source, u.consent_at, u.line,
              CASE WHEN EXISTS (SELECT 1 FROM do_not_call d WHERE d.e164 = u.phone) THEN 'do-not-call' ELSE 'queued' END
         FROM unnest($2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::integer[])
           AS u(id, phone, name, priority, timezone, tz_source, variables, consent, consent_source, consent_at, line)
       ON CONFLICT (campaign_id, phone) DO NOTHING
       RETURNING state, timezone_source`,
      [
        this.opts.campaignId,
        rows.map((r) => r.id),
        rows.map((r) => r.phone),
        rows.map((r) => r.name),
        rows.map((r) => r.priority),
        rows.map((r) => r.timezone),
        rows.map((r) => r.timezoneSource),
        rows.map((r) => r.variables),
        rows.map((r) => r.consent),
        rows.map((r) => r.consentSource),
        rows.map((r) => r.consentAt),
        rows.map((r) => r.line),
      ],
    );
    this.report.accepted += inserted.length;
    this.report.duplicate += rows.length - inserted.length;
    for (const r of inserted) {
      if (r.state === 'do-not-call') this.report.doNotCall++;
      this.report.timezoneSources[r.timezone_source]++;
    }
  }
}

/** Stream a CSV (a header row, then one contact a row) into the campaign. */
export async function importCsv(db: Queryable, input: Readable, opts: ImportOptions): Promise<ImportReport> {
  const writer = new ImportWriter(db, opts);
  const maxRows = opts.maxRows ?? 1_000_000;
  const parser = input.pipe(
    parse({ columns: true, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 64 * 1024, info: true }),
  );
  let sawPhone: boolean | undefined;
  let rows = 0;
  for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    if (sawPhone === undefined) {
      sawPhone = Object.keys(rec.record).some((h) => h.trim().toLowerCase() === 'phone');
      if (!sawPhone) {
        writer.problem(1, { field: 'phone', reason: 'the header row has no "phone" column' });
        input.destroy();
        break;
      }
    }
    if (++rows > maxRows) {
      writer.problem(rec.info.lines, { reason: `more than ${maxRows} rows; split the file` });
      input.destroy();
      break;
    }
    await writer.add(fromCsvRow(rec.record), rec.info.lines);
  }
  await writer.flush();
  return writer.report;
}

/** Import a JSON list; `line` in problems is the item's position (1-based). */
export async function importJson(db: Queryable, contacts: RawContact[], opts: ImportOptions): Promise<ImportReport> {
  const writer = new ImportWriter(db, opts);
  for (let i = 0; i < contacts.length; i++) await writer.add(contacts[i] as RawContact, i + 1);
  await writer.flush();
  return writer.report;
}
