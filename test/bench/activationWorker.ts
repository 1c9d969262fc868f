// Child process of measurement 5: require() the built extension bundle with a stub `vscode` module and call
// activate() with a minimal fake context (no workspace folders). Prints the require and activate times.
// The stub implements the handful of classes and values activation touches; any other member is an inert
// callable proxy, so this measures the extension's own start-up work, not VS Code's.

import Module from 'node:module';
import { join } from 'node:path';

type Callable = (...args: unknown[]) => unknown;

/** An object on which any property, call or `new` yields another inert proxy. */
function inert(): unknown {
  const handler: ProxyHandler<Callable> = {
    get(_target, key) {
      if (key === 'then') return undefined;
      if (key === Symbol.iterator) return function* empty(): Generator<never> {};
      if (key === Symbol.toPrimitive) return () => '';
      if (key === 'dispose') return () => undefined;
      return inert();
    },
    set: () => true,
    defineProperty: () => true,
    apply: () => inert(),
    construct: () => inert() as object,
  };
  return new Proxy(function stub() {} as Callable, handler);
}

/** Explicit members first, an inert proxy for everything else. */
function withFallback<T extends object>(explicit: T): T {
  return new Proxy(explicit, {
    get(target, key, receiver) {
      if (Reflect.has(target, key)) return Reflect.get(target, key, receiver) as unknown;
      if (key === 'then') return undefined;
      return inert();
    },
  });
}

class Disposable {
  constructor(private readonly onDispose: () => void = () => undefined) {}
  static from(...items: Array<{ dispose(): unknown }>): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.onDispose();
  }
}

class EventEmitter<T> {
  private listeners: Array<(value: T) => void> = [];
  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => (this.listeners = this.listeners.filter((l) => l !== listener)));
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

class Holder {
  readonly args: unknown[];
  constructor(...args: unknown[]) {
    this.args = args;
  }
}

interface StubUri {
  scheme: string;
  fsPath: string;
  path: string;
  toString(): string;
  with(change: { path?: string }): StubUri;
}

function fileUri(path: string): StubUri {
  return withFallback({
    scheme: 'file', fsPath: path, path,
    toString: () => `file://${path}`,
    with: (change: { path?: string }) => fileUri(change.path ?? path),
  });
}

const noEvent = (): Disposable => new Disposable();

function vscodeStub(): unknown {
  const configuration = withFallback({
    get: (_key: string, fallback?: unknown) => fallback,
    has: () => false,
    inspect: () => undefined,
    update: () => Promise.resolve(),
  });
  return withFallback({
    Disposable,
    EventEmitter,
    TreeItem: Holder,
    ThemeIcon: Holder,
    ThemeColor: Holder,
    MarkdownString: class extends Holder {
      value = '';
      appendMarkdown(text: string): this {
        this.value += text;
        return this;
      }
      appendText(text: string): this {
        this.value += text;
        return this;
      }
      appendCodeblock(text: string): this {
        this.value += text;
        return this;
      }
    },
    RelativePattern: Holder,
    Uri: withFallback({
      file: fileUri,
      parse: (text: string) => fileUri(text.replace(/^file:\/\//, '')),
      joinPath: (base: StubUri, ...parts: string[]) => fileUri(join(base.fsPath, ...parts)),
    }),
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    QuickPickItemKind: { Separator: -1, Default: 0 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
    ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2 },
    ExtensionMode: { Production: 1, Development: 2, Test: 3 },
    commands: withFallback({
      registerCommand: () => new Disposable(),
      executeCommand: () => Promise.resolve(undefined),
    }),
    workspace: withFallback({
      workspaceFolders: undefined,
      isTrusted: true,
      getConfiguration: () => configuration,
      onDidChangeConfiguration: noEvent,
      onDidChangeWorkspaceFolders: noEvent,
      onDidGrantWorkspaceTrust: noEvent,
      createFileSystemWatcher: () => withFallback({ onDidChange: noEvent, onDidCreate: noEvent, onDidDelete: noEvent, dispose: () => undefined }),
      asRelativePath: (p: unknown) => String(p),
      getWorkspaceFolder: () => undefined,
    }),
    window: withFallback({
      registerTreeDataProvider: () => new Disposable(),
      registerWebviewPanelSerializer: () => new Disposable(),
      onDidCloseTerminal: noEvent,
      onDidChangeActiveTextEditor: noEvent,
    }),
  });
}

function fakeContext(extensionPath: string): unknown {
  const memento = withFallback({
    get: (_key: string, fallback?: unknown) => fallback,
    update: () => Promise.resolve(),
    keys: () => [],
    setKeysForSync: () => undefined,
  });
  return withFallback({
    subscriptions: [] as Array<{ dispose(): unknown }>,
    extensionPath,
    extensionUri: fileUri(extensionPath),
    asAbsolutePath: (p: string) => join(extensionPath, p),
    globalState: memento,
    workspaceState: memento,
    storageUri: undefined,
    globalStorageUri: fileUri('/tmp/bitcoin-usdt-bench-storage'),
    logUri: fileUri('/tmp/bitcoin-usdt-bench-log'),
    extensionMode: 1,
  });
}

interface ModuleWithLoad {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
}

function main(bundle: string, extensionPath: string): void {
  const loader = Module as unknown as ModuleWithLoad;
  const originalLoad = loader._load;
  const stub = vscodeStub();
  loader._load = function load(request: string, parent: unknown, isMain: boolean): unknown {
    return request === 'vscode' ? stub : originalLoad.call(this, request, parent, isMain);
  };
  const requireStart = process.hrtime.bigint();
  const extension = Module.createRequire(__filename)(bundle) as { activate(context: unknown): unknown };
  const requireMs = Number(process.hrtime.bigint() - requireStart) / 1e6;
  const context = fakeContext(extensionPath) as { subscriptions: Array<{ dispose(): unknown }> };
  const activateStart = process.hrtime.bigint();
  let activateError: string | null = null;
  try {
    extension.activate(context);
  } catch (error) {
    activateError = error instanceof Error ? error.message : String(error);
  }
  const activateMs = Number(process.hrtime.bigint() - activateStart) / 1e6;
  process.stdout.write(`${JSON.stringify({ requireMs, activateMs, activateError, subscriptions: context.subscriptions.length })}\n`);
  process.exit(0);
}

main(process.argv[2], process.argv[3]);
