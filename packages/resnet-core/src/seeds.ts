/**
 * A per-layer seed derived from the model seed and the layer's name, so every initializer is
 * seeded, no two layers share a stream, and inserting a layer does not reshuffle the others.
 */
export function layerSeed(seed: number | undefined, layerName: string): number | undefined {
  if (seed === undefined) return undefined;
  // FNV-1a over the name, mixed with the seed; kept in 31 bits for seedrandom.
  let hash = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < layerName.length; i++) {
    hash ^= layerName.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & 0x7fffffff;
}
