// Seeded randomness for the soak: every choice (what to send, when to abort, which fault to inject,
// the core's own jitter) comes from one seed, so a failing run can be replayed with SOAK_SEED.
// Timing still varies from run to run (real sockets, a shared machine); the sequence of choices does not.

/**
 * The mulberry32 generator: a fast 32-bit PRNG with a full 2^32 period, good enough for test chaos.
 *
 * @param seed any 32-bit integer.
 * @returns a function returning floats in [0, 1), like `Math.random`.
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seed for an independent stream derived from a run seed and a stream name, so that adding a
 * random draw in one place (say, the fault schedule) does not shift the draws of another (the load).
 */
export function deriveSeed(seed, stream) {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const char of String(stream)) {
    h = Math.imul(h ^ char.charCodeAt(0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return Math.imul(h ^ (h >>> 16), 0xc2b2ae35) >>> 0;
}

/**
 * Helpers over a random source: `next()` in [0, 1), `int(min, max)` inclusive, `chance(p)`,
 * `pick(list)` and `weighted([[weight, value], …])`.
 */
export function randomTools(random) {
  const int = (min, max) => min + Math.floor(random() * (max - min + 1));
  return {
    next: random,
    int,
    chance: (p) => random() < p,
    pick: (list) => list[Math.floor(random() * list.length)],
    weighted: (entries) => {
      const total = entries.reduce((sum, [weight]) => sum + weight, 0);
      let at = random() * total;
      for (const [weight, value] of entries) {
        if ((at -= weight) < 0) return value;
      }
      return entries.at(-1)[1];
    },
  };
}
