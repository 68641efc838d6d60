/**
 * A deterministic random source for one sample in one epoch: its numbers depend only on
 * (seed, epoch, index), never on which worker draws them or in what order samples are processed.
 */
export function sampleRandom(seed: number, epoch: number, index: number): () => number {
  let state = mix(mix(mix(0x9e3779b9 ^ (seed | 0)) ^ (epoch | 0)) ^ (index | 0));
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit integer hash (murmur3 finaliser), so nearby seeds give unrelated streams. */
function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A uniform integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}
