// Puts a probe's streamed events back into the order they fired.
//
// bpftrace before v0.19 prints from one perf buffer per CPU, each CPU's whole buffer in turn: when a bitcoind
// thread moves to another CPU between two tracepoints, its later event can be printed first (seen on a real
// node: a peer's `headers` printed before the `feefilter` and `pong` it received earlier). How far back such an
// event fired depends on how long bpftrace did not read (up to the whole backlog on a loaded machine), but it
// arrives with the rest of the same read. So each streamed event is held, sorted by the time it fired
// (`elapsed_ns`), until one tick of the reader has passed after it arrived. Any other event (a loss, a summary,
// a helper record) is a barrier: everything held goes out first, so accounts and session records keep their place.

import type { NormalizedEvent } from './eventTypes';

/** Beyond this many held events the oldest go out at once (memory stays bounded under a flood). */
const MAX_HELD = 200_000;

export class FiringOrder {
  /** Held events, sorted by elapsed_ns, from `head` on (the ones before it went out). */
  private held: NormalizedEvent[] = [];
  private head = 0;
  private newestNs = -Infinity;
  private newestAtLastTick = -Infinity;

  constructor(private readonly isStreamed: (event: string) => boolean) {}

  get holding(): number {
    return this.held.length - this.head;
  }

  /** Takes the next decoded event; appends to `out` what can go out now. */
  push(event: NormalizedEvent, out: NormalizedEvent[]): void {
    const at = 'elapsed_ns' in event ? event.elapsed_ns : undefined;
    if (typeof at !== 'number' || !this.isStreamed(event.event)) {
      this.releaseAll(out);
      out.push(event);
      return;
    }
    this.insert(event, at);
    if (at > this.newestNs) this.newestNs = at;
    if (this.holding > MAX_HELD) this.releaseUpTo(elapsedOf(this.held[this.head]), out);
  }

  /** The reader's periodic tick: what arrived before the previous tick goes out, in firing order. */
  tick(out: NormalizedEvent[]): void {
    this.releaseUpTo(this.newestAtLastTick, out);
    this.newestAtLastTick = this.newestNs;
  }

  /** Everything held goes out, in firing order (a barrier, or the stream ended). */
  releaseAll(out: NormalizedEvent[]): void {
    this.releaseUpTo(Infinity, out);
  }

  /** Equal times stay in arrival order; nearly always an append. */
  private insert(event: NormalizedEvent, at: number): void {
    const held = this.held;
    let i = held.length;
    while (i > this.head && elapsedOf(held[i - 1]) > at) i--;
    if (i === held.length) held.push(event);
    else held.splice(i, 0, event);
  }

  private releaseUpTo(limitNs: number, out: NormalizedEvent[]): void {
    const held = this.held;
    let i = this.head;
    while (i < held.length && elapsedOf(held[i]) <= limitNs) out.push(held[i++]);
    if (i === held.length) {
      this.held = [];
      this.head = 0;
    } else if (i > 1024 && i * 2 > held.length) {
      this.held = held.slice(i);
      this.head = 0;
    } else this.head = i;
  }
}

function elapsedOf(event: NormalizedEvent): number {
  return (event as { elapsed_ns: number }).elapsed_ns;
}
