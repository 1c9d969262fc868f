import type * as vscode from 'vscode';
import type { EventHub } from './eventHub';
import type { ExtensionApi } from './testApi';

/** Passed to every feature's register function (no module globals). */
export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly hub: EventHub;
  /** Returned by `activate`; each feature sets its own field (replace `unknown` with its typed API). */
  readonly api: ExtensionApi;
}

/**
 * What a tree node carries when it is passed to a command (Start probe…, Go to source).
 * Every node of the tracepoint tree implements this.
 */
export interface TreeNodeTarget {
  readonly binaryPath?: string;
  /** "context:event", on tracepoint and argument nodes */
  readonly tracepoint?: string;
  /** "net", on context nodes */
  readonly context?: string;
}
