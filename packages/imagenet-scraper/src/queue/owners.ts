/**
 * Who keeps an image, shared by every worker of a queue run: the same rule as one machine's
 * `Dedup` (an image belongs to the first class in the run's order that has it, within a class to
 * its first URL), kept in Redis so that it holds across workers, kills and restarts.
 *
 * `owners` maps a sha256 to its holder `{ rank, url, file, displaced }`; `claims:<rank>` lists the
 * shas a class holds; `revoked:<rank>` queues the images a class must give back. A class taking an
 * image from a later one records the later holder in `displaced` and queues its give-back only
 * after its own copy is committed (`pushRevocations`): a kill in between leaves the claim, which
 * the class's next start either confirms (its manifest has the image) or drops (restoring the
 * displaced holder).
 */
import type { Redis } from 'ioredis';
import type { Deduplicator, Judged } from '../check';
import type { Checked, Holder } from '../stages';
import type { QueueKeys } from './connection';

/** An image to give back: the sha, and the giving class's URL and file. */
export interface Revocation {
  sha256: string;
  url: string;
  file?: string;
}

// KEYS: owners, claims prefix (+ rank), revoked prefix. ARGV: sha, rank, url.
// Returns { 'dup' } | { 'ok', displaced holder JSON or '' }.
const CLAIM = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local rank = tonumber(ARGV[2])
local displaced = {}
if cur then
  local h = cjson.decode(cur)
  if h.rank < rank or (h.rank == rank and h.url ~= ARGV[3]) then return {'dup', cur} end
  if h.rank == rank then return {'ok', ''} end
  displaced = h.displaced or {}
  h.displaced = nil
  table.insert(displaced, 1, h)
  redis.call('SREM', KEYS[2] .. h.rank, ARGV[1])
end
local rec = { rank = rank, url = ARGV[3] }
if #displaced > 0 then rec.displaced = displaced end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
redis.call('SADD', KEYS[2] .. rank, ARGV[1])
if #displaced > 0 then return {'ok', cjson.encode(displaced[1])} end
return {'ok', ''}
`;

// ARGV: sha, rank, file. Records where the holder stored it.
const STORED = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local h = cjson.decode(cur)
if h.rank ~= tonumber(ARGV[2]) then return 0 end
h.file = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(h))
return 1
`;

// ARGV: sha, rank. The holder's copy is in place: the classes it displaced give theirs back.
const PUSH = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local h = cjson.decode(cur)
if h.rank ~= tonumber(ARGV[2]) or not h.displaced then return 0 end
for _, d in ipairs(h.displaced) do
  redis.call('RPUSH', KEYS[3] .. d.rank, cjson.encode({ sha256 = ARGV[1], url = d.url, file = d.file }))
end
local n = #h.displaced
h.displaced = nil
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(h))
return n
`;

// ARGV: sha, rank. A claim its class never committed (killed first): the displaced holder returns.
const DROP = `
redis.call('SREM', KEYS[2] .. ARGV[2], ARGV[1])
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local h = cjson.decode(cur)
if h.rank ~= tonumber(ARGV[2]) then return 0 end
if h.displaced and #h.displaced > 0 then
  local back = table.remove(h.displaced, 1)
  if #h.displaced > 0 then back.displaced = h.displaced end
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(back))
  redis.call('SADD', KEYS[2] .. back.rank, ARGV[1])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
`;

interface OwnerRecord extends Holder {
  displaced?: Holder[];
}

/** The queue run's image owners in Redis. */
export class RedisOwners {
  private readonly keys: [string, string, string];
  constructor(
    private readonly redis: Redis,
    queue: QueueKeys,
    runId: string,
  ) {
    this.keys = [queue.key(runId, 'owners'), queue.key(runId, 'claims', ''), queue.key(runId, 'revoked', '')];
  }

  private run(script: string, ...args: (string | number)[]): Promise<unknown> {
    return this.redis.eval(script, 3, ...this.keys, ...args);
  }

  /** Claims `sha256` for the class at `rank`: `ok` (with the holder it displaced, if any) or `dup`. */
  async claim(sha256: string, rank: number, url: string): Promise<{ ok: boolean; displaced?: Holder }> {
    const [verdict, holder] = (await this.run(CLAIM, sha256, rank, url)) as [string, string];
    if (verdict === 'dup') return { ok: false };
    return { ok: true, displaced: holder ? (JSON.parse(holder) as Holder) : undefined };
  }

  stored(sha256: string, rank: number, file: string): Promise<unknown> {
    return this.run(STORED, sha256, rank, file);
  }

  /** Queues the give-backs of the classes `rank` displaced for `sha256`. */
  pushRevocations(sha256: string, rank: number): Promise<unknown> {
    return this.run(PUSH, sha256, rank);
  }

  drop(sha256: string, rank: number): Promise<unknown> {
    return this.run(DROP, sha256, rank);
  }

  /** The shas the class at `rank` has claimed. */
  claims(rank: number): Promise<string[]> {
    return this.redis.smembers(`${this.keys[1]}${rank}`);
  }

  /** The give-backs queued for `rank` (not removed: `doneRevocations` after they are recorded). */
  async revocations(rank: number): Promise<Revocation[]> {
    const items = await this.redis.lrange(`${this.keys[2]}${rank}`, 0, -1);
    return items.map((item) => JSON.parse(item) as Revocation);
  }

  async doneRevocations(rank: number, count: number): Promise<void> {
    if (count > 0) await this.redis.ltrim(`${this.keys[2]}${rank}`, count, -1);
  }

  /** Seeds the owners of a new run from the images already on disk. */
  async seed(holders: Map<string, Holder>): Promise<void> {
    const entries = [...holders];
    for (let i = 0; i < entries.length; i += 1000) {
      const batch = this.redis.multi();
      for (const [sha, holder] of entries.slice(i, i + 1000)) {
        const record: OwnerRecord = { rank: holder.rank, url: holder.url, file: holder.file };
        batch.hset(this.keys[0], sha, JSON.stringify(record));
        batch.sadd(`${this.keys[1]}${holder.rank}`, sha);
      }
      await batch.exec();
    }
  }

  /** A `Deduplicator` for one class's run. */
  forClass(rank: number): Deduplicator & { revoke(sha256: string): Promise<void> } {
    return {
      judge: async (checked: Exclude<Checked, { status: 'cancelled' | 'failed' }>): Promise<Judged> => {
        const { url, index, timeMs, image } = checked;
        const claimed = await this.claim(image.sha256, rank, url);
        if (!claimed.ok)
          return {
            outcome: { url, index, timeMs, status: 'duplicate', sha256: image.sha256, bytes: image.bytes },
          };
        return { outcome: { ...checked, status: 'ok' }, displaced: claimed.displaced };
      },
      stored: async (sha256, file) => {
        if (file) await this.stored(sha256, rank, file);
      },
      revoke: async (sha256) => {
        await this.pushRevocations(sha256, rank);
      },
    };
  }
}
