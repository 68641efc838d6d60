import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { HostLimits } from '../limits';
import { type RedisServer, redisAvailable, startRedis } from '../testing/redis';
import { redisHostLimits } from './hosts';

const maybe = redisAvailable() ? describe : describe.skip;

maybe('redisHostLimits', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const connect = (url = server.url, options = {}) => {
    const client = new Redis(url, options);
    client.on('error', () => undefined); // the commands that fail report it
    clients.push(client);
    return client;
  };
  /** Released leases go out unawaited: a ping on the same connection answers after them. */
  const flush = (...redis: Redis[]) => Promise.all(redis.map((r) => r.ping()));

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    // Only live ones: disconnecting one already gone would leave ioredis's destroy timer running.
    await Promise.all(clients.filter((c) => c.status === 'ready').map((c) => c.quit()));
    for (const client of clients) if (client.status !== 'end') client.disconnect();
    await server?.stop();
  });

  it('never lets more than perHost requests to a host run at once across instances', async () => {
    const redis = [connect(), connect(), connect()];
    const limits = redis.map((r) => redisHostLimits(r, { prefix: 'a:', perHost: 2, pollMs: 5 }));
    let held = 0;
    let most = 0;
    const one = async (i: number) => {
      const release = await limits[i % 3]!.acquire('example.org');
      held++;
      most = Math.max(most, held);
      await sleep(2 + (i % 4));
      held--;
      release();
    };
    await Promise.all(Array.from({ length: 30 }, (_, i) => one(i)));
    expect(most).toBe(2);
    await flush(...redis);
    expect(await redis[0]!.zcard('a:host:example.org:leases')).toBe(0);
    await Promise.all(limits.map((l) => l.close?.()));
  });

  it("renews a live worker's leases and reclaims a dead one's within leaseMs", async () => {
    const [dying, alive] = [connect(), connect()];
    const options = { prefix: 'b:', perHost: 2, leaseMs: 300, pollMs: 5 };
    const dead = redisHostLimits(dying, options);
    const other = redisHostLimits(alive, options);
    await dead.acquire('h');
    await dead.acquire('h');
    await sleep(450); // past leaseMs: only renewal keeps them
    await expect(other.acquire('h', AbortSignal.timeout(100))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    dying.disconnect(); // as SIGKILL: no release, no renewal
    const start = performance.now();
    const release = await other.acquire('h');
    expect(performance.now() - start).toBeLessThan(300 + 200);
    release();
    await Promise.all([dead.close?.(), other.close?.()]);
  });

  it("holds back other instances for a defer's time; a shorter later defer does not shorten it", async () => {
    const [one, two] = [connect(), connect()];
    const deferring = redisHostLimits(one, { prefix: 'c:', perHost: 1 });
    const waiting = redisHostLimits(two, { prefix: 'c:', perHost: 1 });
    let start = performance.now();
    await waiting.wait('h');
    expect(performance.now() - start).toBeLessThan(50); // no hold: one round trip
    deferring.defer('h', 600);
    deferring.defer('h', 100);
    await flush(one); // both defers have reached Redis
    start = performance.now();
    await waiting.wait('h');
    const waited = performance.now() - start;
    expect(waited).toBeGreaterThanOrEqual(550);
    expect(waited).toBeLessThan(900);
  });

  it('rejects an aborted acquire promptly, with the reason, and leaves no lease', async () => {
    const [one, two] = [connect(), connect()];
    const holder = redisHostLimits(one, { prefix: 'd:', perHost: 1 });
    const waiter = redisHostLimits(two, { prefix: 'd:', perHost: 1 });
    const release = await holder.acquire('h');
    const abort = new AbortController();
    const acquiring = waiter.acquire('h', abort.signal);
    await sleep(300); // its pauses have grown to their longest
    const reason = new Error('quota reached');
    const start = performance.now();
    abort.abort(reason);
    await expect(acquiring).rejects.toBe(reason);
    expect(performance.now() - start).toBeLessThan(100);
    await flush(two);
    expect(await one.zcard('d:host:h:leases')).toBe(1);
    release();
    await flush(one);
    expect(await one.zcard('d:host:h:leases')).toBe(0);
  });

  it('rejects acquire and wait, without hanging, once Redis is gone', async () => {
    const lost = await startRedis();
    let limits: HostLimits | undefined;
    try {
      const redis = connect(lost.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
        enableOfflineQueue: false,
      });
      await redis.connect();
      limits = redisHostLimits(redis, { prefix: 'e:', perHost: 1, pollMs: 5 });
      const release = await limits.acquire('h');
      const queued = limits.acquire('h'); // polling a full host
      const outcome = queued.then(
        () => 'granted',
        (error: Error) => error,
      );
      await lost.stop({ kill: true });
      const start = performance.now();
      expect(await outcome).toBeInstanceOf(Error);
      await expect(limits.acquire('h')).rejects.toThrow();
      await expect(limits.wait('h')).rejects.toThrow();
      expect(performance.now() - start).toBeLessThan(3000);
      expect(release).not.toThrow(); // the lease would expire on its own
    } finally {
      await limits?.close?.();
      await lost.stop();
    }
  });
});
