import { describeStart, type TrainEvent } from '@resnet-ts/train';
import cliProgress from 'cli-progress';
import type { Io } from './io';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** Shows training progress: a bar with ETA and images/s on a terminal, plain lines otherwise. */
export class TrainProgress {
  private readonly io: Io;
  private readonly epochs: number;
  private readonly every: number;
  private bar?: cliProgress.SingleBar;
  private prepareBar?: cliProgress.SingleBar;
  private speed = 0;

  constructor(io: Io, epochs: number, every: number) {
    this.io = io;
    this.epochs = epochs;
    this.every = every;
  }

  private newBar(format: string): cliProgress.SingleBar {
    return new cliProgress.SingleBar(
      { format, stream: this.io.terminal, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
  }

  handle(event: TrainEvent): void {
    switch (event.type) {
      case 'prepare':
        if (!this.io.isTTY) {
          if (event.done === event.total)
            this.io.stderr(`decoded ${event.total} images once into the dataset cache\n`);
          return;
        }
        this.prepareBar ??= this.newBar('decoding |{bar}| {value}/{total} images | ETA {eta_formatted}');
        if (event.done === 1) this.prepareBar.start(event.total, 0);
        this.prepareBar.update(event.done);
        if (event.done === event.total) this.prepareBar.stop();
        return;
      case 'start': {
        const resumed = event.resumedFrom
          ? `; resuming epoch ${event.resumedFrom.epoch + 1} at batch ${event.resumedFrom.batch} (step ${event.resumedFrom.step})`
          : '';
        const limit = event.maxSteps ? `; stopping after step ${event.maxSteps} (--max-steps)` : '';
        const start = describeStart(event);
        const fineTuning = start ? `; ${start}` : '';
        // Skipped backends only matter when auto fell through to the slow pure-JS one.
        if (event.backend === 'cpu')
          for (const skipped of event.skippedBackends) this.io.stderr(`warning: ${skipped}\n`);
        this.io.stderr(
          `backend ${event.backend}; ${event.classes.length} classes, ${event.trainCount} training / ${event.valCount} validation images; ${event.params.toLocaleString('en-US')} parameters; ${event.stepsPerEpoch} steps per epoch${resumed}${limit}${fineTuning}\n`,
        );
        this.io.stderr(
          `class counts: ${event.classes.map((c, i) => `${c} ${event.classCounts[i]}`).join(', ')}\n`,
        );
        return;
      }
      case 'step':
        this.speed =
          this.speed === 0 ? event.imagesPerSecond : 0.9 * this.speed + 0.1 * event.imagesPerSecond;
        if (this.io.isTTY) {
          if (!this.bar) {
            this.bar = this.newBar(
              `epoch ${event.epoch + 1}/${this.epochs} |{bar}| {value}/{total} | loss {loss} | top-1 {top1} | {speed} img/s | ETA {eta_formatted}`,
            );
            this.bar.start(event.batches, event.batch - 1, { loss: '-', top1: '-', speed: '-' });
          }
          this.bar.update(event.batch, {
            loss: event.loss.toFixed(3),
            top1: pct(event.top1),
            speed: this.speed.toFixed(0),
          });
        } else if (event.batch % this.every === 0 || event.batch === event.batches) {
          this.io.stderr(
            `epoch ${event.epoch + 1}/${this.epochs} step ${event.batch}/${event.batches} loss ${event.loss.toFixed(4)} top-1 ${pct(event.top1)} lr ${event.lr.toPrecision(3)} ${this.speed.toFixed(0)} img/s\n`,
          );
        }
        return;
      case 'epoch': {
        this.bar?.stop();
        this.bar = undefined;
        const val = event.val
          ? ` | val loss ${event.val.loss.toFixed(4)} top-1 ${pct(event.val.top1)} top-5 ${pct(event.val.top5)}`
          : '';
        this.io.stderr(
          `epoch ${event.epoch}/${this.epochs}: train loss ${event.train.loss.toFixed(4)} top-1 ${pct(event.train.top1)}${val} | ${event.seconds.toFixed(1)} s, ${event.imagesPerSecond.toFixed(0)} img/s, data wait ${pct(event.dataWaitShare)}\n`,
        );
        return;
      }
      case 'checkpoint':
        return;
    }
  }

  stop(): void {
    this.bar?.stop();
    this.prepareBar?.stop();
  }
}
