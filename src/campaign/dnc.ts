// The deployment's do-not-call list: one list for every campaign, E.164 numbers, checked at import
// (contacts are marked) and again immediately before every dial (dialQueue.ts). Entries come from the
// API, a CSV import, or a flow (an opt-out during a call, settle.ts).
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { createError } from '../errors.ts';
import type { Queryable } from '../store/db.ts';
import { MAX_PROBLEMS, type ImportProblem } from './import.ts';

export interface DncEntry {
  e164: string;
  source: string;
  reason: string | null;
  actor: string;
  createdAt: string;
}

interface DncRow {
  e164: string;
  source: string;
  reason: string | null;
  actor: string;
  created_at: Date;
}

const toEntry = (r: DncRow): DncEntry => ({ e164: r.e164, source: r.source, reason: r.reason, actor: r.actor, createdAt: r.created_at.toISOString() });

/** E.164 of a number as written (with the default country for national numbers), or undefined. */
export function toE164(text: string, defaultCountry = 'US'): string | undefined {
  const p = parsePhoneNumberFromString(text.trim(), { defaultCountry: defaultCountry as CountryCode });
  return p !== undefined && p.isValid() ? p.number : undefined;
}

export class DncStore {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Adds a number (idempotent) and marks it in every campaign's queue at once. */
  async add(e164: string, opts: { source: string; reason?: string | null; actor: string }): Promise<{ entry: DncEntry; created: boolean }> {
    const { rows } = await this.#db.query<DncRow & { created: boolean }>(
      `WITH ins AS (
         INSERT INTO do_not_call (e164, source, reason, actor) VALUES ($1, $2, $3, $4) ON CONFLICT (e164) DO NOTHING RETURNING *
       ), mark AS (
         UPDATE campaign_contacts SET state = 'do-not-call', disposition = 'do-not-call', updated_at = now() WHERE phone = $1 AND state = 'queued'
       )
       SELECT true AS created, * FROM ins UNION ALL SELECT false AS created, * FROM do_not_call WHERE e164 = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [e164, opts.source, opts.reason ?? null, opts.actor],
    );
    const row = rows[0] as DncRow & { created: boolean };
    return { entry: toEntry(row), created: row.created };
  }

  async remove(e164: string): Promise<boolean> {
    const { rowCount } = await this.#db.query('DELETE FROM do_not_call WHERE e164 = $1', [e164]);
    return (rowCount ?? 0) > 0;
  }

  async get(e164: string): Promise<DncEntry | null> {
    const { rows } = await this.#db.query<DncRow>('SELECT * FROM do_not_call WHERE e164 = $1', [e164]);
    return rows[0] === undefined ? null : toEntry(rows[0]);
  }

  async list(opts: { limit: number; cursor?: string }): Promise<{ entries: DncEntry[]; nextCursor: string | null }> {
    const { rows } = await this.#db.query<DncRow>('SELECT * FROM do_not_call WHERE e164 > $1 ORDER BY e164 LIMIT $2', [opts.cursor ?? '', opts.limit + 1]);
    const page = rows.slice(0, opts.limit);
    return { entries: page.map(toEntry), nextCursor: rows.length > opts.limit ? ((page.at(-1) as DncRow).e164) : null };
  }

  /** Stream a CSV with a `phone` (or `e164`) column, and an optional `reason`. */
  async importCsv(input: Readable, opts: { actor: string; defaultCountry: string }): Promise<{ added: number; alreadyListed: number; invalid: number; problems: ImportProblem[] }> {
    const report = { added: 0, alreadyListed: 0, invalid: 0, problems: [] as ImportProblem[] };
    const parser = input.pipe(parse({ columns: (h: string[]) => h.map((x) => x.trim().toLowerCase()), bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 4096, info: true }));
    let batch: Array<{ e164: string; reason: string | null }> = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const { rows } = await this.#db.query<{ e164: string }>(
        `WITH ins AS (
           INSERT INTO do_not_call (e164, source, reason, actor) SELECT DISTINCT ON (u.e164) u.e164, 'import', u.reason, $3 FROM unnest($1::text[], $2::text[]) AS u(e164, reason)
           ON CONFLICT (e164) DO NOTHING RETURNING e164
         ), mark AS (
           UPDATE campaign_contacts SET state = 'do-not-call', disposition = 'do-not-call', updated_at = now() WHERE phone = ANY($1::text[]) AND state = 'queued'
         ) SELECT e164 FROM ins`,
        [batch.map((b) => b.e164), batch.map((b) => b.reason), opts.actor],
      );
      report.added += rows.length;
      report.alreadyListed += batch.length - rows.length;
      batch = [];
    };
    for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const raw = rec.record.phone ?? rec.record.e164;
      if (raw === undefined) {
        throw createError('GW_ERR_DNC_IMPORT', 'phone: the CSV header needs a "phone" (or "e164") column', { statusCode: 400 });
      }
      const e164 = toE164(raw, opts.defaultCountry);
      if (e164 === undefined) {
        report.invalid++;
        if (report.problems.length < MAX_PROBLEMS) report.problems.push({ line: rec.info.lines, field: 'phone', value: raw, reason: 'not a valid phone number' });
        continue;
      }
      batch.push({ e164, reason: rec.record.reason?.slice(0, 200) || null });
      if (batch.length >= 1000) await flush();
    }
    await flush();
    return report;
  }
}
