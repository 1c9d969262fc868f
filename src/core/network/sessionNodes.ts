// The nodes of one session over every process of a build, and each node's own model of the session: what a
// panel shows when one node is selected (docs/architecture.md, "Panel framework", node selector).
//
// - A node is a datadir (from `node` events), as in the network model: a restart (new pid, same datadir) is
//   the same node. A pid without a `node` event is a node of its own (`pid N`).
// - An event belongs to the node of its `pid`. Events without a pid (session:start, session:message, …) are
//   every node's. A node that starts later may have its first events before its `node` event: they wait (a
//   bounded number per pid) until it comes, the wait overflows, or the session ends.
// - Counts stay exact per node: `fired` becomes the node's own from `by_pid`; `p2p:peer_totals` and
//   `p2p:msg_type_totals` keep the node's entries; a `lost` with `by_pid` gives each node its share. What a
//   `lost` names no process for (bpftrace's own report) goes to every node as a warning that says so: it is a
//   loss of all nodes together, not of this one.

import { basename } from 'node:path';
import type { FiredCountsEvent, LostEvent, MessageTypeTotalsEvent, NodeEvent, NormalizedEvent, PeerTotalsEvent, SessionMessageEvent } from '../events/eventTypes';
import type { NodeChoice } from '../../shared/panelProtocol';

/** What a node's model must take (a panel's model: P2pAggregator, a tool view, …). */
export interface NodeModel {
  ingestAll(events: readonly NormalizedEvent[]): unknown;
  markEnded(reason: string): void;
}

export interface SessionNodesLimits {
  /** Nodes with a model of their own; the events of nodes past it are only in the whole session's model. */
  readonly maxNodes: number;
  /** Events of a pid kept while its `node` event has not come (then it becomes a node `pid N`). */
  readonly pendingEventsPerPid: number;
  /** Session messages kept to give a node that appears later (session:start and attach are always kept). */
  readonly sessionMessages: number;
}

export const DEFAULT_SESSION_NODES_LIMITS: SessionNodesLimits = { maxNodes: 32, pendingEventsPerPid: 20_000, sessionMessages: 20 };

interface NodeEntry<Model> {
  key: string;
  name: string;
  run: string | null;
  readonly pids: number[];
  readonly running: Set<number>;
  readonly model: Model;
}

/** Events of the session, not of one process (session:start and session:attached name the session's pid). */
const SESSION_EVENTS: ReadonlySet<string> = new Set(['session:start', 'session:attached', 'session:message', 'session:end', 'truncated', 'clock', 'node:state_at_attach']);

function ownPid(event: NormalizedEvent): number | null {
  if (SESSION_EVENTS.has(event.event)) return null;
  const pid = (event as { pid?: unknown }).pid;
  return typeof pid === 'number' && Number.isSafeInteger(pid) ? pid : null;
}

function finiteCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

const NAME_ORDER = new Intl.Collator('en', { numeric: true });

export class SessionNodes<Model extends NodeModel> {
  readonly limits: SessionNodesLimits;
  private readonly byKey = new Map<string, NodeEntry<Model>>();
  private readonly byPid = new Map<number, NodeEntry<Model>>();
  private readonly pending = new Map<number, NormalizedEvent[]>();
  /** Session-level events a node appearing later gets first (start, attach, the newest messages). */
  private readonly sessionEvents: NormalizedEvent[] = [];
  private sessionMessageCount = 0;
  private ended: string | null = null;
  private lostForAllNodes = 0;
  private pidsWithoutModel = new Set<number>();
  private version = 0;

  constructor(
    private readonly createModel: () => Model,
    limits: Partial<SessionNodesLimits> = {},
  ) {
    this.limits = { ...DEFAULT_SESSION_NODES_LIMITS, ...limits };
  }

  /** Grows when the list of nodes (or their pids, names, running state) changed. */
  get changeCount(): number {
    return this.version;
  }

  /** Events lost that no process was named for (bpftrace's own reports): a loss of all nodes together. */
  get unattributedLost(): number {
    return this.lostForAllNodes;
  }

  /** Processes past `maxNodes`: their events are only in the whole session's model. */
  get processesWithoutNode(): number {
    return this.pidsWithoutModel.size;
  }

  /** The model of the node `key` (undefined: no such node). */
  model(key: string): Model | undefined {
    return this.byKey.get(key)?.model;
  }

  /** The node a pid belongs to (undefined: not known yet). */
  nodeOfPid(pid: number): NodeChoice | undefined {
    const entry = this.byPid.get(pid);
    return entry ? this.choice(entry, this.severalRuns()) : undefined;
  }

  /** The nodes in the order they appeared, named for a selector. */
  nodes(): NodeChoice[] {
    const severalRuns = this.severalRuns();
    // By run, then name with numbers compared as numbers (node2 before node10): the same order however the
    // processes' records arrived.
    return [...this.byKey.values()]
      .sort((a, b) => NAME_ORDER.compare(a.run ?? '', b.run ?? '') || NAME_ORDER.compare(a.name, b.name))
      .map((entry) => this.choice(entry, severalRuns));
  }

  private severalRuns(): boolean {
    const runs = new Set<string | null>();
    for (const entry of this.byKey.values()) runs.add(entry.run);
    return runs.size > 1;
  }

  private choice(entry: NodeEntry<Model>, severalRuns: boolean): NodeChoice {
    const run = entry.run === null ? null : basename(entry.run) || entry.run;
    return {
      key: entry.key,
      name: entry.name,
      label: severalRuns && run !== null ? `${entry.name} (${run})` : entry.name,
      run: entry.run,
      pids: [...entry.pids],
      running: entry.running.size > 0,
    };
  }

  ingestAll(events: readonly NormalizedEvent[]): void {
    const batches = new Map<NodeEntry<Model>, NormalizedEvent[]>();
    const add = (entry: NodeEntry<Model>, event: NormalizedEvent): void => {
      let batch = batches.get(entry);
      if (!batch) batches.set(entry, (batch = []));
      batch.push(event);
    };
    const everyNode = (event: NormalizedEvent): void => {
      for (const entry of this.byKey.values()) add(entry, event);
    };
    for (const event of events) {
      switch (event.event) {
        case 'node':
          this.describe(event, add);
          break;
        case 'node:exit': {
          const entry = this.byPid.get(event.pid);
          if (entry) {
            entry.running.delete(event.pid);
            this.version++;
            add(entry, event);
          } else this.hold(event.pid, event, add);
          break;
        }
        case 'fired':
          this.splitFired(event, add);
          break;
        case 'lost':
          this.splitLost(event, add, everyNode);
          break;
        case 'p2p:peer_totals':
        case 'p2p:msg_type_totals':
          this.splitTotals(event, add);
          break;
        default: {
          const pid = ownPid(event);
          if (pid === null) {
            this.keepSessionEvent(event);
            everyNode(event);
          } else {
            const entry = this.byPid.get(pid);
            if (entry) add(entry, event);
            else this.hold(pid, event, add);
          }
        }
      }
    }
    for (const [entry, batch] of batches) entry.model.ingestAll(batch);
  }

  /** The session ended: pids still without a `node` event become nodes `pid N`; every model ends. */
  markEnded(reason: string): void {
    if (this.ended !== null) return;
    const batches = new Map<NodeEntry<Model>, NormalizedEvent[]>();
    for (const pid of [...this.pending.keys()]) this.flushAsOwnNode(pid, (entry, event) => {
      let batch = batches.get(entry);
      if (!batch) batches.set(entry, (batch = []));
      batch.push(event);
    });
    for (const [entry, batch] of batches) entry.model.ingestAll(batch);
    this.ended = reason;
    for (const entry of this.byKey.values()) entry.model.markEnded(reason);
  }

  // ---- nodes ----

  private describe(event: NodeEvent, add: (entry: NodeEntry<Model>, event: NormalizedEvent) => void): void {
    const key = event.datadir ?? `pid:${event.pid}`;
    let entry = this.byPid.get(event.pid);
    if (entry && entry.key === `pid:${event.pid}` && entry.pids.length === 1 && !this.byKey.has(key)) {
      // The events came first (overflow of the wait): the node `pid N` is this datadir's node.
      this.byKey.delete(entry.key);
      entry.key = key;
      this.byKey.set(key, entry);
    }
    if (!entry) {
      entry = this.byKey.get(key) ?? this.newEntry(key, event.node, event.run);
      if (!entry) {
        this.pidsWithoutModel.add(event.pid);
        this.pending.delete(event.pid);
        return;
      }
      this.byPid.set(event.pid, entry);
      if (!entry.pids.includes(event.pid)) entry.pids.push(event.pid);
    }
    entry.name = event.node;
    entry.run = event.run;
    entry.running.add(event.pid);
    this.version++;
    for (const held of this.pending.get(event.pid) ?? []) add(entry, held);
    this.pending.delete(event.pid);
    add(entry, event);
  }

  private newEntry(key: string, name: string, run: string | null): NodeEntry<Model> | undefined {
    if (this.byKey.size >= this.limits.maxNodes) return undefined;
    const entry: NodeEntry<Model> = { key, name, run, pids: [], running: new Set(), model: this.createModel() };
    this.byKey.set(key, entry);
    this.version++;
    if (this.sessionEvents.length > 0) entry.model.ingestAll(this.sessionEvents);
    return entry;
  }

  /** An event of a pid whose `node` event has not come yet. */
  private hold(pid: number, event: NormalizedEvent, add: (entry: NodeEntry<Model>, event: NormalizedEvent) => void): void {
    if (this.pidsWithoutModel.has(pid)) return;
    if (this.ended !== null) {
      this.flushAsOwnNode(pid, add);
      const entry = this.byPid.get(pid);
      if (entry) add(entry, event);
      return;
    }
    let held = this.pending.get(pid);
    if (!held) this.pending.set(pid, (held = []));
    held.push(event);
    if (held.length >= this.limits.pendingEventsPerPid) this.flushAsOwnNode(pid, add);
  }

  private flushAsOwnNode(pid: number, add: (entry: NodeEntry<Model>, event: NormalizedEvent) => void): void {
    const entry = this.newEntry(`pid:${pid}`, `pid ${pid}`, null);
    const held = this.pending.get(pid) ?? [];
    this.pending.delete(pid);
    if (!entry) {
      this.pidsWithoutModel.add(pid);
      return;
    }
    entry.pids.push(pid);
    entry.running.add(pid);
    this.byPid.set(pid, entry);
    for (const event of held) add(entry, event);
  }

  private keepSessionEvent(event: NormalizedEvent): void {
    if (event.event === 'session:start' || event.event === 'session:attached') this.sessionEvents.push(event);
    else if (event.event === 'session:message') {
      this.sessionEvents.push(event);
      this.sessionMessageCount++;
      if (this.sessionMessageCount > this.limits.sessionMessages) {
        const oldest = this.sessionEvents.findIndex((e) => e.event === 'session:message');
        this.sessionEvents.splice(oldest, 1);
        this.sessionMessageCount--;
      }
    }
  }

  // ---- counts per node ----

  private splitFired(event: FiredCountsEvent, add: (entry: NodeEntry<Model>, event: NormalizedEvent) => void): void {
    const byPid = event.by_pid;
    if (typeof byPid !== 'object' || byPid === null) return; // counts of the whole session only: no node's own
    for (const entry of this.byKey.values()) {
      const counts: Record<string, number> = {};
      let any = false;
      for (const pid of entry.pids) {
        const own = byPid[String(pid)];
        if (typeof own !== 'object' || own === null) continue;
        for (const [tracepoint, count] of Object.entries(own)) {
          counts[tracepoint] = (counts[tracepoint] ?? 0) + finiteCount(count);
          any = true;
        }
      }
      if (any) add(entry, { event: 'fired', ...(event.elapsed_ns === undefined ? {} : { elapsed_ns: event.elapsed_ns }), counts });
    }
  }

  private splitLost(event: LostEvent, add: (entry: NodeEntry<Model>, event: NormalizedEvent) => void, everyNode: (event: NormalizedEvent) => void): void {
    const elapsed = event.elapsed_ns === undefined ? {} : { elapsed_ns: event.elapsed_ns };
    let named = 0;
    const shares = new Map<NodeEntry<Model>, number>();
    for (const [pidText, value] of Object.entries(event.by_pid ?? {})) {
      const count = finiteCount(value);
      named += count;
      const pid = Number(pidText);
      const entry = this.byPid.get(pid);
      if (entry) shares.set(entry, (shares.get(entry) ?? 0) + count);
      else if (count !== 0) this.hold(pid, { event: 'lost', ...elapsed, count, source: event.source ?? 'reconciled' }, add);
    }
    for (const [entry, count] of shares) if (count !== 0) add(entry, { event: 'lost', ...elapsed, count, source: event.source ?? 'reconciled' });
    const forAll = finiteCount(event.count) - named;
    if (forAll === 0) return;
    this.lostForAllNodes += forAll;
    if (forAll > 0) {
      const note: SessionMessageEvent = {
        event: 'session:message',
        level: 'warning',
        message: `${forAll} event${forAll === 1 ? '' : 's'} lost that name no node (bpftrace's own report): a loss of all nodes together, not counted for this node. Each node's share is counted when the probe's run ends.`,
      };
      everyNode(note);
    }
  }

  private splitTotals(event: PeerTotalsEvent | MessageTypeTotalsEvent, add: (entry: NodeEntry<Model>, event: NormalizedEvent) => void): void {
    const entries = event.event === 'p2p:peer_totals' ? event.peers : event.types;
    if (!Array.isArray(entries)) return;
    const byNode = new Map<NodeEntry<Model>, unknown[]>();
    for (const entry of entries as readonly { pid?: unknown }[]) {
      const node = typeof entry?.pid === 'number' ? this.byPid.get(entry.pid) : undefined;
      if (!node) continue; // cumulative: a process described later is in the next totals
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push(entry);
    }
    for (const [node, list] of byNode) {
      if (event.event === 'p2p:peer_totals') add(node, { ...event, peers: list as PeerTotalsEvent['peers'] });
      else add(node, { ...event, types: list as MessageTypeTotalsEvent['types'] });
    }
  }
}
