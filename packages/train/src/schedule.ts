/** Learning-rate schedules as JSON data (so a run's config records them), evaluated per step. */
export type Schedule =
  | { name: 'constant' }
  /** He et al.: multiply by `factor` at each milestone (steps, or epochs with unit 'epoch'). */
  | { name: 'piecewise'; milestones: number[]; factor?: number; unit?: 'step' | 'epoch' }
  /** Cosine decay from the base rate to `minLr` over the run. */
  | { name: 'cosine'; minLr?: number }
  /** Smith's one-cycle learning rate as in PyTorch's OneCycleLR (cosine annealing, two phases); momentum is not cycled. */
  | { name: 'onecycle'; pctStart?: number; divFactor?: number; finalDivFactor?: number };

export interface ScheduleContext {
  baseLr: number;
  totalSteps: number;
  stepsPerEpoch: number;
  /** Linear warm-up from 0 over this many steps, on top of the schedule. */
  warmupSteps?: number;
}

const cosine = (from: number, to: number, t: number) => to + ((from - to) * (1 + Math.cos(Math.PI * t))) / 2;

/** The learning rate for 0-based global `step`. */
export function learningRate(schedule: Schedule, step: number, context: ScheduleContext): number {
  const { baseLr, totalSteps, stepsPerEpoch } = context;
  let lr: number;
  switch (schedule.name) {
    case 'constant':
      lr = baseLr;
      break;
    case 'piecewise': {
      const at = schedule.unit === 'epoch' ? step / stepsPerEpoch : step;
      const passed = schedule.milestones.filter((m) => at >= m).length;
      lr = baseLr * (schedule.factor ?? 0.1) ** passed;
      break;
    }
    case 'cosine':
      lr = cosine(baseLr, schedule.minLr ?? 0, Math.min(1, step / Math.max(1, totalSteps)));
      break;
    case 'onecycle': {
      const initial = baseLr / (schedule.divFactor ?? 25);
      const final = initial / (schedule.finalDivFactor ?? 1e4);
      const peak = Math.max(1, Math.round((schedule.pctStart ?? 0.3) * totalSteps) - 1);
      lr =
        step <= peak
          ? cosine(initial, baseLr, step / peak)
          : cosine(baseLr, final, Math.min(1, (step - peak) / Math.max(1, totalSteps - 1 - peak)));
      break;
    }
  }
  const warmup = context.warmupSteps ?? 0;
  return step < warmup ? (lr * (step + 1)) / warmup : lr;
}

/** Parses the CLI form: `constant`, `cosine`, `onecycle`, `piecewise:32000,48000` or `piecewise:91,136@epoch`. */
export function parseSchedule(text: string): Schedule {
  const [name, args] = text.split(':', 2);
  if (name === 'constant' || name === 'cosine' || name === 'onecycle') {
    if (args) throw new RangeError(`schedule: ${name} takes no arguments (got "${text}")`);
    return { name };
  }
  if (name === 'piecewise' && args) {
    const [list, unit] = args.split('@');
    const milestones = (list ?? '').split(',').map(Number);
    if (
      milestones.some((m) => !Number.isFinite(m) || m <= 0) ||
      (unit && unit !== 'epoch' && unit !== 'step')
    ) {
      throw new RangeError(
        `schedule: must be piecewise:<m1>,<m2>[@epoch|@step] with positive milestones (got "${text}")`,
      );
    }
    return { name: 'piecewise', milestones, unit: (unit as 'epoch' | 'step' | undefined) ?? 'step' };
  }
  throw new RangeError(
    `schedule: must be one of constant, cosine, onecycle, piecewise:<m1>,<m2>[@epoch|@step] (got "${text}")`,
  );
}
