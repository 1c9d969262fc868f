import * as vscode from 'vscode';
import type { TracepointModel } from './tracepointModel';
import { BinaryNode, type TracepointTreeNode } from './treeNodes';

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

  constructor(private readonly model: TracepointModel) {
    this.onDidChangeTreeData = model.onDidChange;
  }

  getParent(node: TracepointTreeNode): TracepointTreeNode | undefined {
    return node.parent;
  }

  getTreeItem(node: TracepointTreeNode): vscode.TreeItem {
    return node.toTreeItem();
  }

  async getChildren(node?: TracepointTreeNode): Promise<TracepointTreeNode[]> {
    if (node) return node.getChildren();
    const binaries = await this.model.getBinaries();
    const inspections = await Promise.all(binaries.map((binary) => this.model.inspect(binary)));
    return binaries.map((binary, i) => new BinaryNode(binary, inspections[i], binaries.length === 1));
  }
}
