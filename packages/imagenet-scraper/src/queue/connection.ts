import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ScrapeConfigError } from '../errors';

/** The queue's Redis could not be reached, or went away mid-run: one line, naming it. */
export class QueueError extends ScrapeConfigError {
  override name = 'QueueError';
}

/** Where a queue lives: the Redis server and the queue's name on it. */
export interface QueueAddress {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  url: string;
  /** Several runs can share one Redis under different names. Default `scrape`. */
  name?: string;
}

export const DEFAULT_QUEUE_NAME = 'scrape';
/** BullMQ's key prefix; the hash tag keeps a queue's keys in one slot. */
const PREFIX = 'resnet-scrape';

/** The queue's Redis keys: BullMQ's under `prefix`/`name`, the run's own under `key(...)`. */
export interface QueueKeys {
  name: string;
  /** For BullMQ (`{ prefix, name }`). */
  prefix: string;
  /** One of the run's own keys. */
  key(...parts: (string | number)[]): string;
}

export function queueKeys(address: QueueAddress): QueueKeys {
  const name = address.name ?? DEFAULT_QUEUE_NAME;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name))
    throw new QueueError(
      `queue name: expected up to 64 letters, digits, ".", "-" and "_", got ${JSON.stringify(name)}`,
    );
  const prefix = `${PREFIX}:{${name}}`;
  return { name, prefix, key: (...parts) => [prefix, 'run', ...parts].join(':') };
}

/** The URL as shown in messages: no password. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

function parseRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueError(`queue: expected a redis://host:port URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new QueueError(`queue: expected a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  return parsed;
}

/** How long Redis may be unreachable before a run gives up on it. */
export const REDIS_GRACE_MS = 5000;

/**
 * Options for the run's own clients: commands fail instead of queueing while Redis is away, and
 * reconnection stops after `REDIS_GRACE_MS`, so a lost server ends the run with one clear line.
 */
export function clientOptions(url: string): RedisOptions & { url: string } {
  parseRedisUrl(url);
  return {
    url,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 3000,
    // A command caught by a lost connection (queued for its retry) would otherwise wait forever
    // once the client gives up: every command settles within the grace period and a second.
    commandTimeout: REDIS_GRACE_MS + 1000,
    retryStrategy: (times) => (times * 250 > REDIS_GRACE_MS ? null : 250),
  };
}

/** Options for BullMQ's own connections (it requires `maxRetriesPerRequest: null`). */
export function bullConnection(url: string): ConnectionOptions {
  const u = parseRedisUrl(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => (times * 250 > REDIS_GRACE_MS ? null : 250),
  };
}

/** A connected client, or a `QueueError` naming the server (unreachable, refused, bad password). */
export async function connectRedis(url: string): Promise<Redis> {
  const { url: _, ...options } = clientOptions(url);
  const client = new Redis(url, options);
  // Reported through the command that fails; the socket's own error says more than ioredis's.
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new QueueError(
      `queue: cannot reach Redis at ${shownUrl(url)} (${(cause ?? (error as Error)).message})`,
    );
  }
  client.removeAllListeners('error');
  client.on('error', () => undefined);
  return client;
}

/** A lost server, as the run reports it. */
export const redisLost = (url: string, error?: unknown) =>
  new QueueError(
    `queue: lost Redis at ${shownUrl(url)}${error ? ` (${(error as Error).message})` : ''}; stopped, nothing half-written — run the same command again once it is back`,
  );

/**
 * Closes a BullMQ worker or queue, and at worst drops its connections: with Redis gone, `close`
 * can wait on a reconnecting client forever, and a process would never exit.
 */
export async function shut(
  target: { close(force?: boolean): Promise<void>; disconnect(): Promise<void> },
  options: { force?: boolean; withinMs?: number } = {},
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, options.withinMs ?? 3000);
  });
  await Promise.race([target.close(options.force).catch(() => undefined), late]);
  clearTimeout(timer);
  await target.disconnect().catch(() => undefined);
}
