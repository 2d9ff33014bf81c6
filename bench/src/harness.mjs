// Timing primitives shared by every benchmark: interleaved rounds, medians, paired ratios, and a
// closed-loop HTTP load generator. Hand-rolled on purpose: the authorize() hot path costs a few
// hundred nanoseconds, the same order as a per-iteration timer read, so we time whole batches.
//
// Every sample records two things: the wall-clock rate (ops/s) and the CPU time this process spent
// per operation (`process.cpuUsage()`, user + system). Servers run in child processes, so on HTTP
// runs the CPU time is the client's alone; on a shared, noisy machine it is much steadier than the
// wall clock, which also counts the time other processes held the core.

/** Median of a list of numbers (mean of the middle two for an even count). */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The `q` quantile (0…1) of a list of numbers, linearly interpolated. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
}

/** Seconds elapsed since `start` (a `process.hrtime.bigint()` reading). */
export const secondsSince = (start) => Number(process.hrtime.bigint() - start) / 1e9;

/** Run a full GC between samples when node was started with `--expose-gc` (a no-op otherwise). */
export const collectGarbage = () => globalThis.gc?.();

/**
 * Run `batch()` (which performs `n` operations) once.
 *
 * @returns `{ rate, cpuUs }`: operations per wall-clock second, and CPU microseconds per operation.
 */
export async function timed(n, batch) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await batch();
  const seconds = secondsSince(start);
  const { user, system } = process.cpuUsage(cpu);
  return { rate: n / seconds, cpuUs: (user + system) / n };
}

/**
 * Measure every variant `rounds` times, interleaved (round r runs the variants rotated by r, so no
 * variant always goes first), after `warmup` unrecorded passes. `measure(variant, size)` runs one
 * batch of `size` operations and returns a {@link timed} sample. Noise that hits one round hits
 * every variant of that round.
 *
 * With `sampleSeconds`, the batch size is calibrated on the last warm-up pass so that a sample of
 * the slowest variant lasts about that long (never below `size`): every variant then does the same
 * work, and the run time stays bounded on a slow or busy machine.
 *
 * @returns `{ samples: { [name]: Array<{ rate, cpuUs }> }, size }` — one sample per round, in order.
 */
export async function interleave(variants, { rounds, warmup = 1, size, sampleSeconds }, measure) {
  let slowest = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < warmup; pass++) {
    slowest = Number.POSITIVE_INFINITY;
    for (const variant of variants) slowest = Math.min(slowest, (await measure(variant, size)).rate);
  }
  if (sampleSeconds && Number.isFinite(slowest)) size = Math.max(size, Math.round(slowest * sampleSeconds));
  const samples = Object.fromEntries(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(round + i) % variants.length];
      collectGarbage();
      samples[variant.name].push(await measure(variant, size));
    }
  }
  return { samples, size };
}

/**
 * Summarise interleaved samples per variant: wall-clock rate (median/min/max), CPU µs per operation
 * (median), and against `baseline` the median (and interquartile range) of the per-round ratios of
 * rates (variant ÷ baseline in the same round) and the median of the per-round CPU differences (µs
 * per operation added). Paired per round, so a noisy round moves both sides.
 */
export function summarise(samples, baseline) {
  const base = baseline ? samples[baseline] : undefined;
  return Object.entries(samples).map(([name, list]) => {
    const rates = list.map((s) => s.rate);
    const ratios = base ? list.map((s, round) => s.rate / base[round].rate) : undefined;
    return {
      name,
      median: median(rates),
      min: Math.min(...rates),
      max: Math.max(...rates),
      ratio: ratios && median(ratios),
      ratioP25: ratios && quantile(ratios, 0.25),
      ratioP75: ratios && quantile(ratios, 0.75),
      cpuUs: median(list.map((s) => s.cpuUs)),
      addedCpuUs: base ? median(list.map((s, round) => s.cpuUs - base[round].cpuUs)) : undefined,
      samples: rates,
      cpuSamples: list.map((s) => s.cpuUs),
    };
  });
}

/**
 * Closed-loop load: `concurrency` workers each send requests back to back until `requests` have been
 * started. `send()` must resolve once the response body is consumed and throw on an unexpected answer.
 *
 * @returns a {@link timed} sample over the whole batch.
 */
export function load(send, { requests, concurrency }) {
  let started = 0;
  const worker = async () => {
    while (started < requests) {
      started++;
      await send();
    }
  };
  return timed(requests, () => Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker)));
}

/** Throw unless `status` is 200: a benchmark that silently measures 401s measures nothing. */
export function expect200(status, what) {
  if (status !== 200) throw new Error(`${what}: expected HTTP 200, got ${status}`);
}

/**
 * Import a workspace adapter's built `dist`, or return `{ missing: reason }` when it is not there
 * (not built yet): the benchmark then reports that row as not measured instead of crashing.
 */
export async function importAdapter(name) {
  try {
    return await import(name);
  } catch (error) {
    return {
      missing: `${name} could not be imported (build it first?): ${String(error?.message).split('\n')[0]}`,
    };
  }
}
