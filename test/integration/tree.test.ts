import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { copyFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { CONTEXT_DOCS, TRACEPOINT_CATALOG } from '../../src/core/catalog/tracepointCatalog';
import type { TracepointTreeApi } from '../../src/extension/tree/tracepointTreeProvider';
import type { TracepointTreeNode } from '../../src/extension/tree/treeNodes';
import { extensionApis, requiredEnv } from './integrationHelpers';
import { screenshot } from './screenshot';

const execFileAsync = promisify(execFile);

interface ShownNode {
  readonly node: TracepointTreeNode;
  readonly item: vscode.TreeItem;
  readonly label: string;
  readonly description: string;
  /** The tooltip's Markdown with the escapes removed: the text a user reads. */
  readonly tooltip: string;
  readonly icon: string | undefined;
}

async function treeApi(): Promise<TracepointTreeApi> {
  return (await extensionApis('tracepointTree')).tracepointTree;
}

function show(tree: TracepointTreeApi, node: TracepointTreeNode): ShownNode {
  const item = tree.getTreeItem(node);
  const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  const tooltipValue = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : (item.tooltip ?? '');
  const icon = item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined;
  return {
    node,
    item,
    label,
    description: typeof item.description === 'string' ? item.description : '',
    tooltip: tooltipValue.replace(/\\(.)/g, '$1'),
    icon,
  };
}

async function children(tree: TracepointTreeApi, parent?: TracepointTreeNode): Promise<ShownNode[]> {
  return (await tree.getChildren(parent)).map((node) => show(tree, node));
}

async function binaryNode(tree: TracepointTreeApi, binaryPath: string): Promise<ShownNode | undefined> {
  return (await children(tree)).find((shown) => shown.node.binaryPath === binaryPath);
}

async function tracepointNodes(tree: TracepointTreeApi, binary: ShownNode): Promise<ShownNode[]> {
  const contexts = (await children(tree, binary.node)).filter((shown) => shown.item.contextValue === 'bitcoinUsdt.context');
  const perContext = await Promise.all(contexts.map((context) => children(tree, context.node)));
  return perContext.flat();
}

/** Polls `check` (which throws while the tree is not there yet) until it passes or the time is up. */
async function eventually<T>(what: string, check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  const detail = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`${what} within ${timeoutMs} ms: ${detail}`);
}

/** Replaces `target` the way a linker does: write a new file next to it, then rename it over the old one. */
async function replaceBinary(source: string, target: string): Promise<void> {
  const temporary = `${target}.tmp-${process.pid}`;
  await copyFile(source, temporary);
  await rename(temporary, target);
}

/** The test tracee's own tracepoints (scenario `undocumented`): in the tree, marked undocumented. */
const TRACEE_OWN = ['tracee:buffers', 'tracee:signed_ints', 'tracee:unsigned_ints'];

describe('tracepoint tree', () => {
  const workspace = requiredEnv('BITCOIN_USDT_TEST_WORKSPACE');
  const traceeBuild = join(process.env.BITCOIN_USDT_TRACEE_DIR ?? join(requiredEnv('BITCOIN_USDT_REPO'), 'test', 'tracee'), 'build');
  const bitcoind = join(workspace, 'build', 'bin', 'bitcoind');

  it('shows build/bin/bitcoind with every documented context, tracepoint and argument', async () => {
    const tree = await treeApi();
    await vscode.commands.executeCommand('workbench.view.extension.bitcoinUsdt');
    const binary = await eventually('build/bin/bitcoind is in the tree', async () => {
      const found = await binaryNode(tree, bitcoind);
      assert.ok(found, `no node for ${bitcoind}`);
      assert.match(found.tooltip, /Semaphores: yes/);
      return found;
    });
    assert.equal(binary.label, 'bitcoind');
    assert.equal(binary.item.contextValue, 'bitcoinUsdt.binary');
    assert.match(binary.tooltip, /ELF64 x86-64/);
    assert.match(binary.tooltip, /Semaphores: yes/);
    assert.match(binary.description, new RegExp(`${TRACEPOINT_CATALOG.length + TRACEE_OWN.length} tracepoints`));

    const binaryChildren = await children(tree, binary.node);
    assert.deepEqual(
      binaryChildren.map((shown) => shown.label),
      [...CONTEXT_DOCS.map((doc) => doc.context), 'tracee', 'Probe tools'],
      'one context node per documented context, in catalog order, no Missing group (the tracee has them all), its own context, then the probe tools',
    );
    for (const context of binaryChildren.filter((shown) => shown.item.contextValue === 'bitcoinUsdt.context' && shown.label !== 'tracee')) {
      const doc = CONTEXT_DOCS.find((entry) => entry.context === context.label);
      assert.ok(doc);
      assert.equal(context.node.context, doc.context);
      assert.ok(context.tooltip.includes(doc.description), `context ${doc.context}'s tooltip lacks its documentation`);
    }

    const all = await tracepointNodes(tree, binary);
    const own = all.filter((shown) => TRACEE_OWN.includes(shown.node.tracepoint ?? ''));
    assert.deepEqual(own.map((shown) => shown.node.tracepoint).sort(), TRACEE_OWN);
    for (const shown of own) assert.equal(shown.item.contextValue, 'bitcoinUsdt.tracepoint.undocumented');
    const tracepoints = all.filter((shown) => !own.includes(shown));
    assert.deepEqual(
      tracepoints.map((shown) => shown.node.tracepoint).sort(),
      TRACEPOINT_CATALOG.map((doc) => doc.id).sort(),
      'every documented tracepoint, once',
    );
    for (const tracepoint of tracepoints) {
      const doc = TRACEPOINT_CATALOG.find((entry) => entry.id === tracepoint.node.tracepoint);
      assert.ok(doc);
      assert.equal(tracepoint.label, doc.event);
      assert.equal(tracepoint.item.contextValue, 'bitcoinUsdt.tracepoint');
      assert.equal(tracepoint.node.binaryPath, bitcoind);
      assert.ok(tracepoint.tooltip.includes(doc.description), `${doc.id}: documentation missing from the tooltip`);
      assert.ok(tracepoint.tooltip.includes(`added in ${doc.versionAdded}`), `${doc.id}: version missing from the tooltip`);
      assert.match(tracepoint.tooltip, /Semaphore at `0x[0-9a-f]+` \(file offset `0x[0-9a-f]+`\)/, `${doc.id}: semaphore missing`);
      assert.match(tracepoint.description, /semaphore/);

      const args = await children(tree, tracepoint.node);
      assert.deepEqual(args.map((arg) => arg.label), doc.args.map((arg) => arg.field), `${doc.id}: argument names`);
      args.forEach((arg, index) => {
        assert.equal(arg.item.contextValue, 'bitcoinUsdt.argument');
        assert.equal(arg.node.tracepoint, doc.id);
        assert.ok(arg.description.includes(`arg${index}`) && arg.description.includes(doc.args[index].cType), `${doc.id} arg${index}: ${arg.description}`);
        assert.match(arg.description, /-?[1248]@\S+$/, `${doc.id} arg${index} shows no raw argument spec`);
        assert.ok(arg.tooltip.includes(doc.args[index].meaning), `${doc.id} arg${index}: meaning missing from the tooltip`);
      });
    }
    const inbound = tracepoints.find((shown) => shown.node.tracepoint === 'net:inbound_message');
    assert.ok(inbound);
    await tree.reveal(inbound.node, { expand: true });
    await screenshot('tracepoint-tree');
  });

  it('reads the binary again when it is rebuilt', async function () {
    this.timeout(60_000);
    const tree = await treeApi();
    const legacy = join(traceeBuild, 'tracee-legacy');
    const v29 = join(traceeBuild, 'tracee-v29');
    assert.ok(existsSync(legacy) && existsSync(v29), `${legacy} or ${v29} is missing: run make -C test/tracee`);
    await eventually('the v29 binary is shown first', async () => {
      const binary = await binaryNode(tree, bitcoind);
      assert.ok(binary);
      assert.match(binary.tooltip, /Semaphores: yes/);
    });
    let changes = 0;
    const subscription = tree.onDidChangeTreeData(() => changes++);
    try {
      await replaceBinary(legacy, bitcoind);
      await eventually('the tree shows the legacy build (no semaphores)', async () => {
        const binary = await binaryNode(tree, bitcoind);
        assert.ok(binary, 'binary node gone');
        assert.match(binary.tooltip, /Semaphores: no/);
        const inbound = (await tracepointNodes(tree, binary)).find((shown) => shown.node.tracepoint === 'net:inbound_message');
        assert.ok(inbound, 'net:inbound_message gone');
        assert.doesNotMatch(inbound.description, /semaphore/);
        assert.match(inbound.tooltip, /No semaphore/);
      });
      assert.ok(changes > 0, 'the tree never told the view it changed');

      await replaceBinary('/usr/bin/python3.11', bitcoind);
      await eventually('the tree shows the python provider of /usr/bin/python3.11', async () => {
        const binary = await binaryNode(tree, bitcoind);
        assert.ok(binary, 'binary node gone');
        const binaryChildren = await children(tree, binary.node);
        const python = binaryChildren.find((shown) => shown.label === 'python');
        assert.ok(python, `no python context among ${binaryChildren.map((shown) => shown.label).join(', ')}`);
        assert.equal(python.icon, 'warning');
        const probes = await children(tree, python.node);
        assert.ok(probes.length > 0);
        for (const probe of probes) {
          assert.equal(probe.item.contextValue, 'bitcoinUsdt.tracepoint.undocumented');
          assert.equal(probe.icon, 'warning');
          assert.match(probe.description, /undocumented/);
        }
        assert.ok(
          binaryChildren.some((shown) => shown.item.contextValue === 'bitcoinUsdt.message' && /none of Bitcoin Core's/.test(shown.label)),
          'no warning that this is not bitcoind',
        );
      });
      await screenshot('tracepoint-tree-python');
    } finally {
      subscription.dispose();
      await replaceBinary(v29, bitcoind);
    }
    await eventually('the tree shows the v29 build again', async () => {
      const binary = await binaryNode(tree, bitcoind);
      assert.ok(binary);
      assert.match(binary.tooltip, /Semaphores: yes/);
    });
  });

  it('shows a clear error node for a listed file that is not an ELF binary, or does not exist', async function () {
    this.timeout(30_000);
    const tree = await treeApi();
    const configuration = vscode.workspace.getConfiguration('bitcoinUsdt', vscode.workspace.workspaceFolders?.[0]?.uri);
    const notElf = join(workspace, 'src', 'tracee.c');
    const notThere = join(workspace, 'build', 'bin', 'no-such-bitcoind');
    const firstBytes = (await readFile(notElf)).subarray(0, 4);
    assert.notDeepEqual([...firstBytes], [0x7f, 0x45, 0x4c, 0x46], 'the fixture must not be an ELF file');
    await configuration.update('bitcoindPaths', ['src/tracee.c', notThere], vscode.ConfigurationTarget.Workspace);
    try {
      const [sourceFile, missingFile] = await eventually('the listed paths appear', async () => {
        const found = await Promise.all([binaryNode(tree, notElf), binaryNode(tree, notThere)]);
        assert.ok(found[0] && found[1], 'not listed yet');
        return found as [ShownNode, ShownNode];
      });
      for (const [binary, expected] of [
        [sourceFile, /is not an ELF file/],
        [missingFile, /does not exist/],
      ] as const) {
        assert.equal(binary.icon, 'error');
        const messages = await children(tree, binary.node);
        assert.equal(messages.length, 1, `${binary.node.binaryPath}: one message node`);
        assert.equal(messages[0].item.contextValue, 'bitcoinUsdt.message');
        assert.equal(messages[0].icon, 'error');
        assert.match(messages[0].label, expected);
        assert.ok(messages[0].tooltip.includes(binary.node.binaryPath ?? '\0'), 'the message does not name the file');
        assert.match(binary.tooltip, expected);
      }
      // The workspace binary is still listed and read.
      const stillThere = await binaryNode(tree, bitcoind);
      assert.ok(stillThere);
      assert.equal(stillThere.icon, 'file-binary');
      await screenshot('tracepoint-tree-errors');
    } finally {
      await configuration.update('bitcoindPaths', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await eventually('the listed paths disappear when the setting is cleared', async () => {
      assert.equal(await binaryNode(tree, notElf), undefined);
    });
  });

  it('lists missing documented tracepoints, undocumented ones and argument count differences', async function () {
    this.timeout(30_000);
    const tree = await treeApi();
    // A binary with three tracepoints: one as documented (v22 style, no semaphore), one with too few
    // arguments, one that Bitcoin Core does not have.
    const source = join(workspace, 'build', 'partial-bitcoind.c');
    const partial = join(workspace, 'build', 'partial-bitcoind');
    await writeFile(
      source,
      [
        '#include <sys/sdt.h>',
        'int main(int argc, char **argv) {',
        '    long id = argc; const char *text = argv[0]; unsigned long size = 1;',
        '    DTRACE_PROBE6(net, inbound_message, id, text, text, text, size, text);',
        '    DTRACE_PROBE3(validation, block_connected, text, id, size);',
        '    DTRACE_PROBE1(net, custom_event, id);',
        '    return 0;',
        '}',
        '',
      ].join('\n'),
    );
    await execFileAsync('gcc', ['-O1', '-o', partial, source]).catch((error: unknown) => {
      throw new Error(`cannot compile the test binary with gcc and <sys/sdt.h> (systemtap-sdt-dev): ${String(error)}`);
    });
    const configuration = vscode.workspace.getConfiguration('bitcoinUsdt', vscode.workspace.workspaceFolders?.[0]?.uri);
    await configuration.update('bitcoindPaths', ['build/partial-bitcoind'], vscode.ConfigurationTarget.Workspace);
    try {
      const binary = await eventually('the partial binary appears', async () => {
        const found = await binaryNode(tree, partial);
        assert.ok(found);
        return found;
      });
      assert.equal(binary.icon, 'file-binary');
      assert.match(binary.tooltip, /Semaphores: no/);
      const binaryChildren = await children(tree, binary.node);
      assert.deepEqual(binaryChildren.map((shown) => shown.label), ['net', 'validation', 'Missing', 'Probe tools']);

      const missingGroup = binaryChildren[2];
      const missing = await children(tree, missingGroup.node);
      const expectedMissing = TRACEPOINT_CATALOG.filter((doc) => doc.id !== 'net:inbound_message' && doc.id !== 'validation:block_connected');
      assert.deepEqual(missing.map((shown) => shown.label), expectedMissing.map((doc) => doc.id));
      missing.forEach((shown, index) => {
        assert.equal(shown.description, `added in ${expectedMissing[index].versionAdded}`);
        assert.equal(shown.item.contextValue, 'bitcoinUsdt.missingTracepoint', 'a missing tracepoint must not offer Start probe');
        assert.ok(binary.tooltip.includes(`${expectedMissing[index].id} (${expectedMissing[index].versionAdded})`), 'the binary tooltip lists the missing ones');
      });

      const net = await children(tree, binaryChildren[0].node);
      assert.deepEqual(net.map((shown) => shown.label), ['inbound_message', 'custom_event']);
      assert.equal(net[0].item.contextValue, 'bitcoinUsdt.tracepoint');
      assert.match(net[0].tooltip, /No semaphore/);
      assert.equal(net[1].item.contextValue, 'bitcoinUsdt.tracepoint.undocumented');
      assert.equal(net[1].icon, 'warning');
      const customArgs = await children(tree, net[1].node);
      assert.deepEqual(customArgs.map((shown) => shown.label), ['arg0']);
      assert.match(customArgs[0].description, /^arg0 · signed 64-bit · -8@\S+$/);

      const [blockConnected] = await children(tree, binaryChildren[1].node);
      assert.equal(blockConnected.icon, 'warning');
      assert.match(blockConnected.description, /argument count differs/);
      assert.match(blockConnected.tooltip, /passes 3 argument/);
      // The interface check: arg 1 (height) is documented int32, the binary passes a long.
      assert.match(blockConnected.tooltip, /arg 1 \(height\): the binary passes signed 8 bytes, the catalog documents signed 4 bytes/);
      assert.match(binary.description, /1 interface mismatch/);
      const blockArgs = await children(tree, blockConnected.node);
      const blockDoc = TRACEPOINT_CATALOG.find((doc) => doc.id === 'validation:block_connected');
      assert.ok(blockDoc);
      assert.deepEqual(blockArgs.map((shown) => shown.label), blockDoc.args.map((arg) => arg.field));
      assert.match(blockArgs[1].description, /^arg1 · int32 · differs: signed 8 bytes, documented signed 4 bytes · -8@\S+$/);
      assert.equal(blockArgs[1].icon, 'symbol-field');
      assert.ok(blockArgs.slice(3).every((shown) => shown.description.endsWith('not passed by this binary')));
      await tree.reveal(blockConnected.node, { expand: true });
      await screenshot('tracepoint-tree-partial');
    } finally {
      await configuration.update('bitcoindPaths', undefined, vscode.ConfigurationTarget.Workspace);
      await rm(partial, { force: true });
      await rm(source, { force: true });
    }
  });

  it('adds a binary picked with Add bitcoind binary… and removes it again', async () => {
    const tree = await treeApi();
    const picked = join(traceeBuild, 'tracee-legacy');
    assert.ok(existsSync(picked), `${picked} is missing: run make -C test/tracee`);
    // The file picker cannot be driven from the extension host: answer it like a user picking the file.
    const window = vscode.window as { showOpenDialog: typeof vscode.window.showOpenDialog };
    const realShowOpenDialog = window.showOpenDialog;
    let dialogOptions: vscode.OpenDialogOptions | undefined;
    window.showOpenDialog = async (options) => {
      dialogOptions = options;
      return [vscode.Uri.file(picked)];
    };
    try {
      await vscode.commands.executeCommand('bitcoinUsdt.addBinary');
    } finally {
      window.showOpenDialog = realShowOpenDialog;
    }
    assert.ok(dialogOptions?.canSelectFiles, 'the command did not open a file picker');
    const added = await eventually('the added binary appears', async () => {
      const found = await binaryNode(tree, picked);
      assert.ok(found);
      return found;
    });
    assert.equal(added.item.contextValue, 'bitcoinUsdt.binary.added');
    assert.match(added.tooltip, /Added with/);
    assert.equal((await tracepointNodes(tree, added)).length, TRACEPOINT_CATALOG.length + TRACEE_OWN.length);

    await vscode.commands.executeCommand('bitcoinUsdt.removeBinary', added.node);
    await eventually('the removed binary disappears', async () => {
      assert.equal(await binaryNode(tree, picked), undefined);
    });
  });

  it('copies the bpftrace attach point of a tracepoint', async () => {
    const tree = await treeApi();
    const binary = await binaryNode(tree, bitcoind);
    assert.ok(binary);
    const inbound = (await tracepointNodes(tree, binary)).find((shown) => shown.node.tracepoint === 'net:inbound_message');
    assert.ok(inbound);
    await vscode.env.clipboard.writeText('');
    await vscode.commands.executeCommand('bitcoinUsdt.copyAttachPoint', inbound.node);
    assert.equal(await vscode.env.clipboard.readText(), `usdt:${bitcoind}:net:inbound_message`);
  });

  after(async () => {
    await rm(`${bitcoind}.tmp-${process.pid}`, { force: true });
  });
});
