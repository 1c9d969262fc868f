import * as vscode from 'vscode';
import type { BinaryRegistry, DiscoveredBinary } from '../binaries/binaryRegistry';
import { inspectBinary, type BinaryInspection } from './binaryInspection';

/**
 * What the tracepoint tree shows, apart from how it shows it: the discovered binaries and, read on
 * demand and cached until the binary is rebuilt, each one's tracepoints matched against the catalog.
 */
export class TracepointModel implements vscode.Disposable {
  private readonly inspections = new Map<string, Promise<BinaryInspection>>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[];

  readonly onDidChange = this.changed.event;

  constructor(readonly registry: BinaryRegistry) {
    this.subscriptions = [
      this.changed,
      registry.onDidChangeBinaries(() => this.changed.fire()),
      registry.onDidRebuildBinary((binaryPath) => this.invalidate(binaryPath)),
    ];
  }

  getBinaries(): Promise<readonly DiscoveredBinary[]> {
    return this.registry.getBinaries();
  }

  inspect(binary: DiscoveredBinary): Promise<BinaryInspection> {
    let inspection = this.inspections.get(binary.path);
    if (!inspection) {
      inspection = inspectBinary(binary);
      this.inspections.set(binary.path, inspection);
    }
    return inspection;
  }

  /** All binaries with their inspections, in list order. */
  async inspectAll(): Promise<BinaryInspection[]> {
    const binaries = await this.getBinaries();
    return Promise.all(binaries.map((binary) => this.inspect(binary)));
  }

  /** Forgets what was read from one binary (or all of them) and tells the views. */
  invalidate(binaryPath?: string): void {
    if (binaryPath === undefined) this.inspections.clear();
    else this.inspections.delete(binaryPath);
    this.changed.fire();
  }

  /** Refresh: look for binaries again and read every one of them again. */
  async reload(): Promise<void> {
    this.inspections.clear();
    await this.registry.rediscover();
    this.changed.fire();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
