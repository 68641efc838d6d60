import { Redis } from 'ioredis';
import { type RedisServer, redisAvailable, startRedis } from '../testing/redis';
import { LeaseLostError, leaseClass } from './lease';

const maybe = redisAvailable() ? describe : describe.skip;

maybe('a class lease', () => {
  let server: RedisServer;
  let a: Redis;
  let b: Redis;
  beforeAll(async () => {
    server = await startRedis();
    a = new Redis(server.url);
    b = new Redis(server.url);
  });
  afterAll(async () => {
    a?.disconnect();
    b?.disconnect();
    await server?.stop();
  });

  it('one holder at a time; a holder that stalled past it stops before its next write', async () => {
    const lost: LeaseLostError[] = [];
    const first = await leaseClass(a, 'lease:1', 300, (e) => lost.push(e));
    expect(first).toBeDefined();
    expect(await leaseClass(b, 'lease:1', 300, () => undefined)).toBeUndefined();
    await first?.check(); // still ours, and extended
    // A stall: the first holder's renewals stop (its connection paused), the lease lapses.
    a.disconnect();
    await new Promise((r) => setTimeout(r, 400));
    const second = await leaseClass(b, 'lease:1', 300, () => undefined);
    expect(second).toBeDefined();
    a = new Redis(server.url);
    const stale = await leaseClass(a, 'lease:1', 300, () => undefined);
    expect(stale).toBeUndefined();
    await second?.release();
    expect(await b.get('lease:1')).toBeNull();
    expect(lost.every((e) => e instanceof LeaseLostError)).toBe(true);
  });

  it('check throws LeaseLostError once another worker holds the class', async () => {
    const lost: LeaseLostError[] = [];
    const held = await leaseClass(a, 'lease:2', 5000, (e) => lost.push(e));
    await b.set('lease:2', 'someone else', 'PX', 5000); // what a new holder holds after a lapse
    await expect(held?.check()).rejects.toThrow(LeaseLostError);
    expect(lost).toHaveLength(1);
    await held?.release(); // not ours: left alone
    expect(await b.get('lease:2')).toBe('someone else');
  });
});
