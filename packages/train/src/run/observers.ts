import { appendFile, readFile } from 'node:fs/promises';
import type { EpochRecord } from '../checkpoint';
import { writeFileAtomic } from '../files';
import { TrainingTensorBoard } from '../tensorboard';

/** A training step as the loop reports it. */
export interface StepEvent {
  type: 'step';
  epoch: number;
  batch: number;
  batches: number;
  step: number;
  loss: number;
  top1: number;
  lr: number;
  imagesPerSecond: number;
}

export interface CheckpointEvent {
  type: 'checkpoint';
  dir: string;
  epoch: number;
  batch: number;
  step: number;
}

/** The run stopped early at its step limit. */
export interface StopEvent {
  type: 'stop';
  reason: 'maxSteps';
  maxSteps: number | undefined;
  step: number;
}

/** What watches a training loop: logs, TensorBoard, progress events. Each method is optional. */
export interface TrainObserver {
  step?(event: StepEvent): void | Promise<void>;
  epoch?(record: EpochRecord): void | Promise<void>;
  checkpoint?(event: CheckpointEvent): void | Promise<void>;
  stop?(event: StopEvent): void | Promise<void>;
}

/** Tells every observer, in order. */
export async function notify<K extends keyof TrainObserver>(
  observers: readonly TrainObserver[],
  kind: K,
  event: Parameters<NonNullable<TrainObserver[K]>>[0],
): Promise<void> {
  for (const observer of observers) {
    const method = observer[kind] as ((e: typeof event) => void | Promise<void>) | undefined;
    await method?.call(observer, event);
  }
}

/** `logs/metrics.jsonl`: a step line every `logEvery` steps, every epoch record, the step-limit stop. */
export class MetricsLog implements TrainObserver {
  constructor(
    private readonly file: string,
    private readonly logEvery: number,
  ) {}

  private append(line: object): Promise<void> {
    return appendFile(this.file, `${JSON.stringify(line)}\n`);
  }

  async step(event: StepEvent): Promise<void> {
    if (event.step % this.logEvery === 0) {
      await this.append({
        type: 'step',
        epoch: event.epoch,
        step: event.step,
        loss: event.loss,
        lr: event.lr,
      });
    }
  }

  epoch(record: EpochRecord): Promise<void> {
    return this.append(record);
  }

  stop(event: StopEvent): Promise<void> {
    return this.append(event);
  }

  /**
   * Drops lines written after the checkpoint a run resumes from (they will be written again), and
   * the line of an earlier stop at `maxSteps` (the run goes on, or stops there again and says so).
   */
  async resumeAt(step: number): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    const kept = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter((line) => {
        try {
          const entry = JSON.parse(line) as { type?: string; step: number };
          return entry.step <= step && entry.type !== 'stop';
        } catch {
          return false; // a torn last line
        }
      });
    await writeFileAtomic(this.file, kept.map((l) => `${l}\n`).join(''));
  }
}

/** TensorBoard scalars: loss and learning rate every `logEvery` steps, each epoch's metrics. */
export class TensorBoardLog implements TrainObserver {
  private readonly writer: TrainingTensorBoard;

  constructor(
    dir: string,
    private readonly logEvery: number,
  ) {
    this.writer = new TrainingTensorBoard(dir);
  }

  step(event: StepEvent): void {
    if (event.step % this.logEvery === 0) this.writer.step(event.step, { loss: event.loss, lr: event.lr });
  }

  epoch(record: EpochRecord): void {
    this.writer.epoch(record);
  }
}

/** Passes the loop's steps, epochs and checkpoints to a caller's event handler. */
export class EventForwarder implements TrainObserver {
  constructor(private readonly emit: (event: StepEvent | EpochRecord | CheckpointEvent) => void) {}

  step(event: StepEvent): void {
    this.emit(event);
  }

  epoch(record: EpochRecord): void {
    this.emit(record);
  }

  checkpoint(event: CheckpointEvent): void {
    this.emit(event);
  }
}
