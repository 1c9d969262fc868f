// Puts a probe's events back into the order they fired.
//
// bpftrace before v0.19 prints from one perf buffer per CPU, each CPU's whole buffer in turn: when a bitcoind
// thread moves to another CPU between two tracepoints, its later event can be printed first (seen on a real
// node: a peer's `headers` printed before the `feefilter` and `pong` it received earlier; measured under load:
// ~2 % of events, up to 7 ms). So each event with a time (`elapsed_ns`: the tracepoints', and the counts,
// losses and helper records on the same clock) is held, sorted by that time, until a tick of the reader has
// passed since it arrived AND events timed `holdNs` later have arrived; a tick with nothing new lets everything
// out (the probe is quiet). An event that still comes too late doubles `holdNs` (up to MAX_HOLD_NS) and is
// counted. An event without a time (the session's own: start, attached, messages, end) is a barrier: everything
// held goes out first, so the session's records keep their place.

import type { NormalizedEvent } from './eventTypes';

/** Beyond this many held events the oldest go out at once (memory stays bounded under a flood). */
const MAX_HELD = 200_000;
export const FIRING_ORDER_HOLD_NS = 100_000_000;
const MAX_HOLD_NS = 2_000_000_000;

export class FiringOrder {
  /** Held events, sorted by elapsed_ns, from `head` on (the ones before it went out). */
  private held: NormalizedEvent[] = [];
  private head = 0;
  private newestNs = -Infinity;
  private newestAtLastTick = -Infinity;
  private taken = 0;
  private takenAtLastTick = 0;
  private lastReleasedNs = -Infinity;
  /** Events that arrived after a later-timed one had gone out (each widened the hold). */
  lateEvents = 0;

  constructor(private holdNs = FIRING_ORDER_HOLD_NS) {}

  get holding(): number {
    return this.held.length - this.head;
  }

  /** Takes the next decoded event; appends to `out` what can go out now. */
  push(event: NormalizedEvent, out: NormalizedEvent[]): void {
    const at = 'elapsed_ns' in event ? event.elapsed_ns : undefined;
    if (typeof at !== 'number') {
      this.releaseAll(out);
      out.push(event);
      return;
    }
    if (at < this.lastReleasedNs) {
      this.lateEvents++;
      this.holdNs = Math.min(MAX_HOLD_NS, Math.max(1, this.holdNs) * 2);
    }
    this.taken++;
    this.insert(event, at);
    if (at > this.newestNs) this.newestNs = at;
    if (this.holding > MAX_HELD) this.releaseUpTo(elapsedOf(this.held[this.head]), out);
  }

  /**
   * The reader's periodic tick: what arrived before the previous tick and fired `holdNs` before the newest event
   * goes out, in firing order; everything when nothing arrived since the previous tick.
   */
  tick(out: NormalizedEvent[]): void {
    if (this.taken === this.takenAtLastTick) this.releaseAll(out);
    else this.releaseUpTo(Math.min(this.newestAtLastTick, this.newestNs - this.holdNs), out);
    this.newestAtLastTick = this.newestNs;
    this.takenAtLastTick = this.taken;
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
    if (i > this.head) this.lastReleasedNs = elapsedOf(held[i - 1]);
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
