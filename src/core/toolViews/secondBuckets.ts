// Per-second counters over a sliding window, for several series at once (rates over time and "last N
// seconds" sums). Memory: seriesCount × windowSeconds numbers, whatever the session's length.

export interface BucketSeries {
  readonly startSecond: number;
  /** One array per series, consecutive seconds from startSecond to the newest second. */
  readonly values: readonly (readonly number[])[];
}

export class SecondBuckets {
  private readonly counts: Float64Array;
  /** Newest second holding data; -1 before the first add. */
  private newest = -1;
  private oldest = -1;

  constructor(
    readonly seriesCount: number,
    readonly windowSeconds: number,
  ) {
    if (seriesCount < 1 || windowSeconds < 1) throw new RangeError('SecondBuckets needs at least one series and one second');
    this.counts = new Float64Array(seriesCount * windowSeconds);
  }

  get newestSecond(): number {
    return this.newest;
  }

  /** Adds `amount` to `series` at `second`; seconds older than the window are dropped. */
  add(series: number, second: number, amount: number): void {
    if (second < 0 || !Number.isFinite(second) || amount === 0) return;
    const s = Math.floor(second);
    if (this.newest < 0) {
      this.newest = s;
      this.oldest = s;
    } else if (s > this.newest) {
      // Clear the slots the window moves over.
      const steps = Math.min(s - this.newest, this.windowSeconds);
      for (let k = 1; k <= steps; k++) this.clearSecond(this.newest + k);
      this.newest = s;
      this.oldest = Math.max(this.oldest, s - this.windowSeconds + 1);
    } else if (s <= this.newest - this.windowSeconds) {
      return;
    } else if (s < this.oldest) {
      for (let k = s; k < this.oldest; k++) this.clearSecond(k);
      this.oldest = s;
    }
    this.counts[this.slot(s) * this.seriesCount + series] += amount;
  }

  /** Sum of `series` over the seconds in (toSecond − seconds, toSecond]. */
  sum(series: number, toSecond: number, seconds: number): number {
    if (this.newest < 0) return 0;
    const last = Math.min(Math.floor(toSecond), this.newest);
    const first = Math.max(Math.floor(toSecond) - seconds + 1, this.oldest, this.newest - this.windowSeconds + 1);
    let total = 0;
    for (let s = first; s <= last; s++) total += this.counts[this.slot(s) * this.seriesCount + series];
    return total;
  }

  /** All held seconds, oldest first; `upToSecond` extends with zeros to that second (a live clock). */
  series(upToSecond = -1): BucketSeries {
    if (this.newest < 0) return { startSecond: 0, values: Array.from({ length: this.seriesCount }, () => []) };
    const end = Math.max(this.newest, Math.floor(upToSecond));
    const start = Math.max(this.oldest, end - this.windowSeconds + 1);
    const values: number[][] = Array.from({ length: this.seriesCount }, () => []);
    for (let s = start; s <= end; s++) {
      const inWindow = s <= this.newest;
      for (let i = 0; i < this.seriesCount; i++) values[i].push(inWindow ? this.counts[this.slot(s) * this.seriesCount + i] : 0);
    }
    return { startSecond: start, values };
  }

  private slot(second: number): number {
    return second % this.windowSeconds;
  }

  private clearSecond(second: number): void {
    const base = this.slot(second) * this.seriesCount;
    this.counts.fill(0, base, base + this.seriesCount);
  }
}

/** A fixed-capacity ring of values, oldest first. */
export class BoundedRing<T> {
  private readonly items: T[] = [];
  private start = 0;
  private dropped = 0;

  constructor(readonly capacity: number) {
    if (capacity < 1) throw new RangeError('BoundedRing capacity must be at least 1');
  }

  get length(): number {
    return this.items.length;
  }

  /** Items pushed out of the ring so far. */
  get droppedCount(): number {
    return this.dropped;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    this.dropped++;
  }

  /** The item `index` places from the newest (0 = newest). */
  fromNewest(index: number): T | undefined {
    if (index < 0 || index >= this.items.length) return undefined;
    return this.items[(this.start + this.items.length - 1 - index) % this.items.length];
  }

  /** The newest `limit` items that pass `accept`, oldest first, and how many pass in all. */
  newestMatching(limit: number, accept: (item: T) => boolean): { items: T[]; matching: number } {
    const picked: T[] = [];
    let matching = 0;
    for (let i = 0; i < this.items.length; i++) {
      const item = this.fromNewest(i) as T;
      if (!accept(item)) continue;
      matching++;
      if (picked.length < limit) picked.push(item);
    }
    return { items: picked.reverse(), matching };
  }
}
