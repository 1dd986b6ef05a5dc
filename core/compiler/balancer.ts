/**
 * Smooth weighted round robin (the nginx algorithm): over any window of `sum(weights)` picks each
 * target is chosen `weight` times, interleaved rather than in bursts.
 */
export class WeightedRoundRobin<T extends { weight: number }> {
  readonly targets: readonly T[];
  readonly #current: number[];
  readonly #total: number;

  constructor(targets: readonly T[]) {
    this.targets = targets;
    this.#current = targets.map(() => 0);
    this.#total = targets.reduce((sum, t) => sum + t.weight, 0);
  }

  /** Index of the next target. */
  next(): number {
    if (this.targets.length === 1) return 0;
    let best = 0;
    for (let i = 0; i < this.targets.length; i++) {
      this.#current[i]! += this.targets[i]!.weight;
      if (this.#current[i]! > this.#current[best]!) best = i;
    }
    this.#current[best]! -= this.#total;
    return best;
  }
}
