/** Running classification metrics over batches of scores (logits or probabilities). */
export class ClassificationMetrics {
  readonly numClasses: number;
  /** confusion[truth * numClasses + predicted] */
  readonly confusion: Int32Array;
  count = 0;
  lossSum = 0;
  top1 = 0;
  top5 = 0;

  constructor(numClasses: number) {
    this.numClasses = numClasses;
    this.confusion = new Int32Array(numClasses * numClasses);
  }

  /** Adds a batch: `scores` is N×numClasses, `lossSum` the summed (not mean) loss of the batch. */
  add(scores: Float32Array, labels: ArrayLike<number>, lossSum: number): Int32Array {
    const k = this.numClasses;
    const predictions = new Int32Array(labels.length);
    for (let n = 0; n < labels.length; n++) {
      const truth = labels[n] as number;
      const row = scores.subarray(n * k, (n + 1) * k);
      let best = 0;
      let above = 0; // classes scoring higher than the true one
      const target = row[truth] as number;
      for (let c = 0; c < k; c++) {
        const v = row[c] as number;
        if (v > (row[best] as number)) best = c;
        if (v > target || (v === target && c < truth)) above++;
      }
      predictions[n] = best;
      // A NaN score compares false with everything: count such a sample as a miss, not a hit.
      const finite = Number.isFinite(target) && Number.isFinite(row[best] as number);
      if (finite && best === truth) this.top1++;
      if (finite && above < 5) this.top5++;
      this.confusion[truth * k + best] = (this.confusion[truth * k + best] ?? 0) + 1;
    }
    this.count += labels.length;
    this.lossSum += lossSum;
    return predictions;
  }

  summary(): { loss: number; top1: number; top5: number; count: number } {
    const n = Math.max(1, this.count);
    return { loss: this.lossSum / n, top1: this.top1 / n, top5: this.top5 / n, count: this.count };
  }

  /** Accuracy of each class (NaN for a class with no samples). */
  perClassAccuracy(): number[] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, c) => {
      let total = 0;
      for (let p = 0; p < k; p++) total += this.confusion[c * k + p] ?? 0;
      return total === 0 ? Number.NaN : (this.confusion[c * k + c] ?? 0) / total;
    });
  }

  /** The confusion matrix as rows (truth) of columns (prediction). */
  matrix(): number[][] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, c) => Array.from(this.confusion.subarray(c * k, (c + 1) * k)));
  }

  toJSON() {
    return {
      count: this.count,
      lossSum: this.lossSum,
      top1: this.top1,
      top5: this.top5,
      confusion: Array.from(this.confusion),
    };
  }

  static fromJSON(
    numClasses: number,
    json: ReturnType<ClassificationMetrics['toJSON']>,
  ): ClassificationMetrics {
    const metrics = new ClassificationMetrics(numClasses);
    Object.assign(metrics, { count: json.count, lossSum: json.lossSum, top1: json.top1, top5: json.top5 });
    metrics.confusion.set(json.confusion);
    return metrics;
  }
}
