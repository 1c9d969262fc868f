import * as vscode from 'vscode';
import { callSiteText, countsText, sessionTag, type TracepointSessionCounts } from '../../core/liveCounts/tracepointActivity';
import { markdownText } from '../../shared/untrustedText';
import type { TracepointModel } from './tracepointModel';
import { BinaryNode, TracepointNode, type TracepointTreeNode } from './treeNodes';

/** The live counts the tree shows beside traced tracepoints (the same as on their call sites). */
export interface TracepointCountsSource {
  readonly onDidChangeCounts: vscode.Event<void>;
  countsOf(tracepoint: string): readonly TracepointSessionCounts[];
}

/** What the extension exports about the tree, for the integration tests. */
export interface TracepointTreeApi {
  readonly onDidChangeTreeData: vscode.Event<void>;
  getChildren(node?: TracepointTreeNode): Promise<TracepointTreeNode[]>;
  getTreeItem(node: TracepointTreeNode): vscode.TreeItem;
  /** Shows the node in the Tracepoints view (opening the view), selected and, if asked, expanded. */
  reveal(node: TracepointTreeNode, options?: { expand?: boolean | number }): Promise<void>;
}

/** Presents the model as binary → context → tracepoint → argument; reads binaries when first asked. */
export class TracepointTreeProvider implements vscode.TreeDataProvider<TracepointTreeNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(
    private readonly model: TracepointModel,
    private readonly counts: TracepointCountsSource,
  ) {
    this.onDidChangeTreeData = (listener, thisArgs, disposables) => {
      const subscriptions = [model.onDidChange(listener, thisArgs), counts.onDidChangeCounts(listener, thisArgs)];
      const both = vscode.Disposable.from(...subscriptions);
      disposables?.push(both);
      return both;
    };
  }

  getParent(node: TracepointTreeNode): TracepointTreeNode | undefined {
    return node.parent;
  }

  getTreeItem(node: TracepointTreeNode): vscode.TreeItem {
    const item = node.toTreeItem();
    if (node instanceof TracepointNode) this.addCounts(item, node.tracepoint);
    return item;
  }

  /** A traced tracepoint: its counts first in the description, each session's in the tooltip. */
  private addCounts(item: vscode.TreeItem, tracepoint: string): void {
    const counts = this.counts.countsOf(tracepoint);
    if (counts.length === 0) return;
    item.description = [callSiteText(counts), item.description].filter((part) => typeof part === 'string' && part !== '').join(' · ');
    if (item.tooltip instanceof vscode.MarkdownString) {
      item.tooltip.appendMarkdown(`\n\n**Traced now**\n\n${counts.map((c) => `- ${markdownText(sessionTag(c.session))}: ${markdownText(countsText(c))}`).join('\n')}`);
    }
  }

  async getChildren(node?: TracepointTreeNode): Promise<TracepointTreeNode[]> {
    if (node) return node.getChildren();
    const binaries = await this.model.getBinaries();
    const inspections = await Promise.all(binaries.map((binary) => this.model.inspect(binary)));
    return binaries.map((binary, i) => new BinaryNode(binary, inspections[i], binaries.length === 1));
  }
}
