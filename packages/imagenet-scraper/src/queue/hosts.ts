import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { HostGate, type HostLimits } from '../limits';

// Times come from Redis's clock (TIME, key expiries), never a worker's: machines with skewed clocks agree.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** The set's own expiry never cuts a lease short, and an abandoned host's set goes away. */
const KEEP_KEY = `if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
`;

/** KEYS[1] the host's leases (id → expiry); ARGV perHost, id, leaseMs. 1: granted, 0: full. */
const ACQUIRE = `${NOW}local key, ms = KEYS[1], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', key, now + ms, ARGV[2])
${KEEP_KEY}return 1`;

/** KEYS the leases' sets; ARGV leaseMs, then one id per key. XX: a lease released (or reclaimed) meanwhile stays gone. */
const RENEW = `${NOW}local ms = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + ms, ARGV[i + 1])
  ${KEEP_KEY}end
return 0`;

/** KEYS[1] the host's hold, whose time to live is the hold; ARGV ms. Only ever lengthens it. */
const DEFER = `if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0`;

interface Scripts {
  scraperHostAcquire(key: string, perHost: number, id: string, leaseMs: number): Promise<number>;
  scraperHostRenew(keys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  scraperHostDefer(key: string, ms: number): Promise<number>;
}

/** Sleeps `ms`; rejects with `signal.reason` (as the interface promises) when it aborts. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
}

export interface RedisHostLimitsOptions {
  /** Key prefix, e.g. the queue's (`${prefix}host:${host}:leases`). */
  prefix: string;
  /** Requests per host at once, across every worker sharing `prefix`. */
  perHost: number;
  /** A lease not renewed for this long (its worker died) is free again. Default 15 000. */
  leaseMs?: number;
  /** First pause between tries of a full host, ms; it grows to about 200 ms. Default 25. */
  pollMs?: number;
}

/**
 * Per-host limits shared by every worker through Redis: a sorted set of leases per host (at most
 * `perHost`, each expiring unless its holder renews it) and a Retry-After hold per host.
 */
export function redisHostLimits(redis: Redis, options: RedisHostLimitsOptions): HostLimits {
  const { prefix, perHost, leaseMs = 15_000, pollMs = 25 } = options;
  redis.defineCommand('scraperHostAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('scraperHostRenew', { lua: RENEW });
  redis.defineCommand('scraperHostDefer', { numberOfKeys: 1, lua: DEFER });
  const scripts = redis as Redis & Scripts;
  const leasesKey = (host: string) => `${prefix}host:${host}:leases`;
  const untilKey = (host: string) => `${prefix}host:${host}:until`;
  const maxPollMs = Math.max(pollMs, 200);

  /** Live leases, id → key. */
  const leases = new Map<string, string>();
  // This process honours its own defers at once, before Redis has them.
  const gate = new HostGate();
  /** An error of a call nobody awaits (defer, renew), thrown by the next acquire or wait. */
  let failure: unknown;
  let closed = false;

  let timer: NodeJS.Timeout | undefined;
  let renewing = false;
  const renew = async () => {
    if (renewing || leases.size === 0) return; // the last renewal is still under way
    renewing = true;
    const held = [...leases];
    try {
      await scripts.scraperHostRenew(
        held.length,
        ...held.map(([, key]) => key),
        leaseMs,
        ...held.map(([id]) => id),
      );
    } catch (error) {
      failure ??= error;
    } finally {
      renewing = false;
    }
  };
  const holding = () => {
    // One timer for all leases, only while there are some; unref'd: it never keeps a process alive.
    if (leases.size > 0 && !timer) timer = setInterval(renew, leaseMs / 3).unref();
    if (leases.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const release = (id: string) => {
    const key = leases.get(id);
    if (key === undefined) return; // released already, or closed
    leases.delete(id);
    holding();
    // Not awaited (a release is synchronous); if it fails, the lease expires within leaseMs.
    redis.zrem(key, id).catch(() => undefined);
  };

  return {
    async acquire(host, signal) {
      for (let tries = 0; ; tries++) {
        signal?.throwIfAborted();
        if (closed) throw new Error('redisHostLimits: closed');
        if (failure !== undefined) {
          const error = failure;
          failure = undefined;
          throw error;
        }
        const id = randomUUID();
        if ((await scripts.scraperHostAcquire(leasesKey(host), perHost, id, leaseMs)) === 1) {
          leases.set(id, leasesKey(host));
          holding();
          if (signal?.aborted) release(id); // aborted during the round trip: give it back
          signal?.throwIfAborted();
          return () => release(id);
        }
        const ms = Math.min(maxPollMs, pollMs * 2 ** tries);
        await pause(ms * (0.5 + Math.random() / 2), signal); // jittered: workers don't retry in step
      }
    },

    async wait(host, signal) {
      // A loop: another worker may extend the hold while this one sleeps.
      for (;;) {
        signal?.throwIfAborted();
        // Not cleared here: fetch reports a failed wait as a cancelled download, so acquire must see it too.
        if (failure !== undefined) throw failure;
        const ms = Math.max(await redis.pttl(untilKey(host)), gate.heldFor(host)); // -2: no hold
        if (ms <= 0) return;
        await pause(ms, signal);
      }
    },

    defer(host, ms) {
      if (!(ms > 0)) return;
      gate.defer(host, ms);
      scripts.scraperHostDefer(untilKey(host), Math.ceil(ms)).catch((error: unknown) => {
        failure ??= error;
      });
    },

    async close() {
      closed = true;
      const held = [...leases];
      leases.clear();
      holding();
      if (held.length === 0) return;
      const pipeline = redis.pipeline();
      for (const [id, key] of held) pipeline.zrem(key, id);
      // A lost Redis must not mask the error that ended the run: the leases expire on their own.
      await pipeline.exec().catch(() => undefined);
    },
  };
}
