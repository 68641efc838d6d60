/**
 * A class's lease: who may write its folder and manifest. BullMQ's job lock hands a class to
 * another worker when its holder seems dead, but a holder that only stalled (a busy machine) would
 * go on writing beside the new one. So a worker also leases the class in Redis, and checks (and
 * extends) the lease before every write: a new holder gets the lease only once it has lapsed, and
 * a writer that lost it stops before its next write.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { QueueError } from './connection';

// ARGV: token, ms. Extends the lease if it is still ours.
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class LeaseLostError extends QueueError {
  override name = 'LeaseLostError';
}

export interface ClassLease {
  /** Throws `LeaseLostError` when another worker holds the class now. */
  check(): Promise<void>;
  release(): Promise<void>;
}

/** The class's lease, or undefined while another worker holds it. Renewed every `ms / 3`. */
export async function leaseClass(
  redis: Redis,
  key: string,
  ms: number,
  onLost: (error: LeaseLostError) => void,
): Promise<ClassLease | undefined> {
  const token = randomUUID();
  if ((await redis.set(key, token, 'PX', ms, 'NX')) === null) return undefined;
  let lost: LeaseLostError | undefined;
  const extend = async () => {
    if (lost) throw lost;
    if (Number(await redis.eval(EXTEND, 1, key, token, ms)) !== 1) {
      lost = new LeaseLostError(`queue: lost the lease on ${key}: another worker holds the class`);
      clearInterval(timer);
      onLost(lost);
      throw lost;
    }
  };
  const timer = setInterval(() => void extend().catch(() => undefined), Math.max(100, Math.floor(ms / 3)));
  timer.unref();
  return {
    check: extend,
    release: async () => {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    },
  };
}
