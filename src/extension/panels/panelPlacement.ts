import * as vscode from 'vscode';

/**
 * Where new panels open: as tabs in the editor group the user last put (or looked at) a panel in, so that
 * several panels share one group beside the source instead of each opening a column of its own. With no
 * panel open, the first one opens beside the active editor.
 */
export class PanelPlacement {
  /** Open panels, the one the user last moved or looked at last. */
  private readonly open: vscode.WebviewPanel[] = [];

  /** The column for a new panel. */
  column(): vscode.ViewColumn {
    for (let i = this.open.length - 1; i >= 0; i--) {
      const column = this.open[i].viewColumn;
      if (column !== undefined) return column;
    }
    return vscode.ViewColumn.Beside;
  }

  /** Follows a panel until it is disposed. */
  watch(panel: vscode.WebviewPanel): vscode.Disposable {
    this.open.push(panel);
    const listeners = [
      panel.onDidChangeViewState(() => {
        if (panel.active) this.moveToEnd(panel);
      }),
      panel.onDidDispose(() => this.remove(panel)),
    ];
    return new vscode.Disposable(() => {
      this.remove(panel);
      for (const listener of listeners) listener.dispose();
    });
  }

  private moveToEnd(panel: vscode.WebviewPanel): void {
    this.remove(panel);
    this.open.push(panel);
  }

  private remove(panel: vscode.WebviewPanel): void {
    const index = this.open.indexOf(panel);
    if (index >= 0) this.open.splice(index, 1);
  }
}
