// Webview safety, checked on the code itself: every webview page generator really produces a strict CSP with a
// fresh crypto nonce on every script and no inline code; no webview source (media/**, src/shared/**) or built
// bundle (dist/webview/*.js, when built) uses an HTML sink or a code-from-string API; every panel validates what
// its webview posts before acting on it. The real-VS-Code tests (test/integration/hostilePipeline.test.ts,
// p2pPanel.test.ts) check what a hostile string does once rendered.

import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import Module from 'node:module';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(__dirname, '..', '..');

function filesUnder(directory: string, extensions: readonly string[]): string[] {
  const found: string[] = [];
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, extensions));
    else if (extensions.some((ext) => name.endsWith(ext))) found.push(path);
  }
  return found;
}

/** Patterns that turn data into markup or code in a browser. */
const FORBIDDEN_IN_WEBVIEWS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\.innerHTML\b/, 'innerHTML'],
  [/\.outerHTML\b/, 'outerHTML'],
  [/insertAdjacentHTML/, 'insertAdjacentHTML'],
  [/document\.write(ln)?\s*\(/, 'document.write'],
  [/\beval\s*\(/, 'eval'],
  [/\bnew\s+Function\s*\(/, 'new Function'],
  [/createContextualFragment/, 'createContextualFragment'],
  [/\bDOMParser\b/, 'DOMParser'],
  [/\.srcdoc\b/, 'srcdoc'],
  [/setAttribute\(\s*['"`](on\w+|href|src|srcdoc|style|formaction|action)['"`]/i, 'setAttribute of a handler, URL or style attribute'],
  [/set(Timeout|Interval)\(\s*['"`]/, 'setTimeout/setInterval with a string'],
  [/\.(href|src|action|formAction)\s*=(?!=)/, 'assigning a URL attribute'],
  [/<[a-z]+[^>]*\son[a-z]+\s*=/i, 'an inline event handler in markup'],
];

function violations(text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    for (const [pattern, what] of FORBIDDEN_IN_WEBVIEWS) if (pattern.test(line)) found.push(`line ${index + 1}: ${what}: ${line.trim().slice(0, 120)}`);
  });
  return found;
}

// ---- a minimal stand-in for the `vscode` module, enough for the HTML generators (Uri.joinPath, toString)

interface FakeUri {
  readonly path: string;
  toString(): string;
}

const fakeUri = (path: string): FakeUri => ({ path, toString: () => `https://file%2B.vscode-resource.vscode-cdn.net${path}` });
const fakeVscode = { Uri: { joinPath: (base: FakeUri, ...parts: string[]): FakeUri => fakeUri([base.path, ...parts].join('/')) } };
const fakeWebview = { cspSource: 'https://*.vscode-cdn.net', asWebviewUri: (uri: FakeUri): FakeUri => uri };

type ModuleLoad = (request: string, parent: unknown, isMain: boolean) => unknown;

function withFakeVscode<T>(load: () => T): T {
  const moduleWithLoad = Module as unknown as { _load: ModuleLoad };
  const original = moduleWithLoad._load;
  moduleWithLoad._load = (request, parent, isMain) => (request === 'vscode' ? fakeVscode : original(request, parent, isMain));
  try {
    return load();
  } finally {
    moduleWithLoad._load = original;
  }
}

type PageGenerator = (webview: typeof fakeWebview, extensionUri: FakeUri) => string;

function pageGenerators(): Array<[string, PageGenerator]> {
  return withFakeVscode(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const page = require('../../src/extension/panels/webviewPageHtml') as {
      webviewPageHtml: (w: typeof fakeWebview, e: FakeUri, o: { bundle: string; title: string; extraStyles?: string[] }) => string;
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
    const hostileTitle = '</title><script>alert(1)</script><img src=x onerror=alert(1)>';
    return [
      ['webviewPageHtml (p2pPanel)', (w, e) => page.webviewPageHtml(w, e, { bundle: 'p2pPanel', title: 'P2P traffic', extraStyles: ['uPlot.min.css'] })],
      ['webviewPageHtml (rawMessagesPanel)', (w, e) => page.webviewPageHtml(w, e, { bundle: 'rawMessagesPanel', title: hostileTitle })],
      ['webviewPageHtml (toolPanel)', (w, e) => page.webviewPageHtml(w, e, { bundle: 'toolPanel', title: hostileTitle, extraStyles: ['uPlot.min.css'] })],
    ];
  });
}

describe('webview safety', () => {
  const extensionUri = fakeUri('/ext');

  for (const [name, generate] of pageGenerators()) {
    it(`${name}: a strict CSP, a fresh 144-bit nonce on every script, no inline code, assets only from dist/webview`, () => {
      const html = generate(fakeWebview, extensionUri);
      const cspMatch = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
      assert.ok(cspMatch, 'a CSP meta tag');
      const directives = new Map(cspMatch[1].split(';').map((d) => d.trim().split(/\s+/)).map(([key, ...values]) => [key, values]));
      assert.deepEqual(directives.get('default-src'), ["'none'"]);
      const scriptSrc = directives.get('script-src') ?? [];
      assert.equal(scriptSrc.length, 1, `script-src allows only the nonce: ${scriptSrc.join(' ')}`);
      const nonce = /^'nonce-([A-Za-z0-9+/]{24})'$/.exec(scriptSrc[0])?.[1];
      assert.ok(nonce, `a base64 nonce of 18 random bytes: ${scriptSrc[0]}`);
      for (const [directive, values] of directives) {
        for (const value of values) {
          assert.ok(!/unsafe-(inline|eval|hashes)|^\*$|^https?:$|^data:$/.test(value) || (directive === 'img-src' && value === 'data:'), `${directive} ${value}`);
        }
      }
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.ok(scripts.length >= 1);
      for (const [, attributes, body] of scripts) {
        assert.ok(attributes.includes(`nonce="${nonce}"`), `every script carries the nonce: ${attributes}`);
        assert.equal(body.trim(), '', 'no inline script text');
        assert.match(attributes, /src="https:\/\/file%2B\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/[A-Za-z0-9]+\.js"/);
      }
      assert.equal(html.match(/<script\b/g)?.length, scripts.length);
      assert.doesNotMatch(html, /<[^>]*\son[a-z]+\s*=/i, 'no inline event handler');
      assert.doesNotMatch(html, /<img|<iframe|<object|<embed|javascript:/i);
      const title = /<title>([^<]*)<\/title>/.exec(html)?.[1];
      assert.ok(title !== undefined && !/[<>&"]/.test(title), `the title cannot form markup: ${title}`);
      for (const [, href] of html.matchAll(/href="([^"]*)"/g)) assert.match(href, /^https:\/\/file%2B\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/[A-Za-z0-9.]+\.css$/);
      const again = /'nonce-([^']+)'/.exec(generate(fakeWebview, extensionUri))?.[1];
      assert.notEqual(again, nonce, 'a new nonce for every page');
    });
  }

  it('no webview source or shared module turns data into markup or code', () => {
    const sources = [...filesUnder(join(REPO, 'media'), ['.ts', '.js']), ...filesUnder(join(REPO, 'src', 'shared'), ['.ts'])];
    assert.ok(sources.length >= 3, 'found the webview sources');
    const found = sources.flatMap((path) => violations(readFileSync(path, 'utf8')).map((v) => `${relative(REPO, path)} ${v}`));
    assert.deepEqual(found, []);
  });

  it('the built webview bundles (uPlot included) have no HTML sink either', () => {
    const directory = join(REPO, 'dist', 'webview');
    const bundles = existsSync(directory) ? readdirSync(directory).filter((name) => name.endsWith('.js')) : [];
    assert.ok(bundles.length > 0, `${directory} has no bundles: run \`npm run build\` first`);
    const sinks = /\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/;
    for (const bundle of bundles) {
      const text = readFileSync(join(directory, bundle), 'utf8');
      const match = sinks.exec(text);
      assert.equal(match, null, `${bundle}: ${match ? text.slice(Math.max(0, match.index - 80), match.index + 80) : ''}`);
    }
  });

  it('every panel parses what its webview posts before acting on it, and creates pages only with the generators above', () => {
    const extensionSources = filesUnder(join(REPO, 'src', 'extension'), ['.ts']);
    let receivers = 0;
    for (const path of extensionSources) {
      const text = readFileSync(path, 'utf8');
      for (const match of text.matchAll(/onDidReceiveMessage\(\((\w+): unknown\) => \{\s*const message = (parse\w+)\(\1\);\s*if \(message\)/g)) {
        receivers++;
        assert.ok(match[2].startsWith('parse'), `${relative(REPO, path)}: ${match[0]}`);
      }
      const all = text.match(/onDidReceiveMessage\(/g)?.length ?? 0;
      const parsed = [...text.matchAll(/onDidReceiveMessage\(\((\w+): unknown\) => \{\s*const message = parse\w+\(\1\);/g)].length;
      assert.equal(parsed, all, `${relative(REPO, path)}: a webview message handler that does not start by parsing the message`);
      for (const assignment of text.matchAll(/webview\.html\s*=\s*([^;]+);/g)) {
        assert.match(assignment[1], /^webviewPageHtml\(/, `${relative(REPO, path)}: webview.html from ${assignment[1]}`);
      }
    }
    assert.ok(receivers >= 1);
  });
});
