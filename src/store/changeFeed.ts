// A change feed over PostgreSQL LISTEN/NOTIFY (DESIGN decision 11): caches of shared data (routes,
// flows, departments, campaign settings…) subscribe to a channel and drop what a write elsewhere made
// stale, instead of serving it until a TTL runs out.
//
//   const off = db.changes.subscribe('gateway_changes', (payload) => cache.invalidate(payload));
//
// A handler receives the NOTIFY payload, or RESYNC ('*') when notifications may have been missed (the
// listening connection was lost and is back): then everything the handler caches may be stale.
// Handlers run on the event loop and must be quick and must not throw (a throw is logged).
//
// PostgreSQL: one dedicated connection per process LISTENs (a pooled one would be handed to other
// queries and lose its LISTENs when recycled); it reconnects with backoff (resilience/policy.ts) when the server
// goes away. Embedded PGlite: the single backend LISTENs and the notifications it receives are picked
// out of the protocol stream (pgliteConnection.ts) — there is only one instance, so they come at once.
import pg from 'pg';
import { persistentRetry } from '../resilience/policy.ts';
import type { StoreLogger } from './db.ts';

export type ChangeHandler = (payload: string) => void;

/** Payload given to handlers when notifications may have been missed. */
export const RESYNC = '*';

/** The channel the 003 migration's triggers announce numbers/flows/departments changes on. */
export const ROUTING_CHANNEL = 'gateway_changes';

export interface ChangeFeed {
  /** Calls `handler` for every notification on `channel`; returns the unsubscribe function. */
  subscribe(channel: string, handler: ChangeHandler): () => void;
  /** Resolves once every subscribed channel is being listened to (tests, start-up). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** How notifications reach a feed: LISTEN on a channel, and get told about connection loss. */
export interface NotificationSource {
  listen(channel: string): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkChannel(channel: string): string {
  if (!CHANNEL.test(channel)) throw new RangeError(`change feed channel "${channel}" must be a lowercase SQL identifier`);
  return channel;
}

/** Handlers by channel, shared by both implementations. */
export class ChangeHandlers {
  private readonly byChannel = new Map<string, Set<ChangeHandler>>();
  private readonly log: StoreLogger | undefined;

  constructor(log?: StoreLogger) {
    this.log = log;
  }

  /** Returns true when this is the channel's first handler (the caller then LISTENs). */
  add(channel: string, handler: ChangeHandler): boolean {
    let set = this.byChannel.get(channel);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.byChannel.set(channel, set);
    }
    set.add(handler);
    return first;
  }

  remove(channel: string, handler: ChangeHandler): void {
    this.byChannel.get(channel)?.delete(handler);
  }

  channels(): string[] {
    return [...this.byChannel.keys()];
  }

  dispatch(channel: string, payload: string): void {
    for (const handler of this.byChannel.get(channel) ?? []) {
      try {
        handler(payload);
      } catch (err) {
        this.log?.error({ channel, err }, 'change feed handler failed');
      }
    }
  }

  resyncAll(): void {
    for (const channel of this.byChannel.keys()) this.dispatch(channel, RESYNC);
  }
}

/** A feed over any NotificationSource that calls `handlers.dispatch` for what it receives. */
export function feedOver(source: NotificationSource, handlers: ChangeHandlers, log: StoreLogger): ChangeFeed {
  const listening = new Map<string, Promise<void>>();
  const listen = (channel: string): void => {
    const p = source.listen(channel).catch((err: unknown) => log.warn({ channel, err }, 'LISTEN failed; the change feed retries on reconnect'));
    listening.set(channel, p);
  };
  return {
    subscribe(channel, handler) {
      checkChannel(channel);
      if (handlers.add(channel, handler)) listen(channel);
      return () => handlers.remove(channel, handler);
    },
    async ready() {
      await Promise.all(listening.values());
    },
    close: () => source.close(),
  };
}

/**
 * PostgreSQL: a dedicated client that LISTENs on every subscribed channel, reconnecting with capped
 * exponential backoff when its connection fails; after a reconnect every handler gets RESYNC.
 */
export class PostgresNotifications implements NotificationSource {
  private readonly config: pg.ClientConfig;
  private readonly handlers: ChangeHandlers;
  private readonly log: StoreLogger;
  private readonly lifetime = new AbortController();
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private lostOnce = false;
  /** The last statement sent on the listening client (see listen). */
  private statements: Promise<unknown> = Promise.resolve();

  constructor(config: pg.ClientConfig, handlers: ChangeHandlers, log: StoreLogger) {
    this.config = config;
    this.handlers = handlers;
    this.log = log;
  }

  async listen(channel: string): Promise<void> {
    const client = await this.connect();
    // One statement at a time on this client: channels subscribed together, or while a reconnect
    // re-LISTENs, would otherwise overlap (node-postgres queues them, deprecated for pg 9).
    const run = this.statements.then(() => client.query(`LISTEN ${checkChannel(channel)}`));
    this.statements = run.catch(() => undefined);
    await run;
  }

  async close(): Promise<void> {
    this.lifetime.abort();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client> {
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.connecting ??= persistentRetry({ initialDelayMs: 200, maxDelayMs: 5_000 })
      .execute(async () => {
        if (this.lifetime.signal.aborted) throw new Error('change feed closed');
        const client = new pg.Client(this.config);
        client.on('error', (err) => this.lost(client, err));
        client.on('end', () => this.lost(client, undefined));
        client.on('notification', (n) => this.handlers.dispatch(n.channel, n.payload ?? ''));
        try {
          await client.connect();
          const relisten = (async () => {
            for (const channel of this.handlers.channels()) await client.query(`LISTEN ${checkChannel(channel)}`);
          })();
          this.statements = relisten.catch(() => undefined);
          await relisten;
        } catch (err) {
          client.removeAllListeners('end');
          await client.end().catch(() => undefined);
          throw err;
        }
        return client;
      }, this.lifetime.signal)
      .then(
        (client) => {
          this.client = client;
          this.connecting = undefined;
          if (this.lostOnce) {
            this.log.info({ channels: this.handlers.channels() }, 'change feed listening again; caches resynchronized');
            this.handlers.resyncAll();
          }
          return client;
        },
        (err: unknown) => {
          this.connecting = undefined;
          throw err;
        },
      );
    return this.connecting;
  }

  private lost(client: pg.Client, err: Error | undefined): void {
    if (this.client !== client || this.lifetime.signal.aborted) return;
    this.client = undefined;
    this.lostOnce = true;
    this.log.warn({ err: err?.message }, 'change feed connection lost; caches fall back to their TTL until it is back');
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    // Notifications sent meanwhile are lost: once reconnected, handlers get RESYNC.
    this.connect().catch(() => undefined);
  }
}
