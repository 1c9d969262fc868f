import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface MenuEntry {
  command: string;
  when?: string;
}

interface SettingSchema {
  scope?: string;
}

interface ExtensionManifest {
  name: string;
  publisher: string;
  main: string;
  activationEvents?: string[];
  contributes: {
    commands: { command: string; title: string }[];
    views: Record<string, { id: string }[]>;
    viewsContainers?: Record<string, { id: string }[]>;
    viewsWelcome?: { view: string; contents: string }[];
    menus: Record<string, MenuEntry[]>;
    configuration: { properties: Record<string, SettingSchema> };
  };
}

const manifest = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as ExtensionManifest;
const prefix = 'bitcoinUsdt.';
const commandIds = manifest.contributes.commands.map((c) => c.command);
const viewIds = Object.values(manifest.contributes.views).flat().map((v) => v.id);

describe('package.json manifest', () => {
  it('prefixes every command id with bitcoinUsdt.', () => {
    assert.ok(commandIds.length > 0);
    assert.deepEqual(commandIds.filter((id) => !id.startsWith(prefix)), []);
  });

  it('has no duplicate command ids', () => {
    assert.equal(new Set(commandIds).size, commandIds.length);
  });

  it('prefixes every view id with bitcoinUsdt.', () => {
    assert.ok(viewIds.length > 0);
    assert.deepEqual(viewIds.filter((id) => !id.startsWith(prefix)), []);
  });

  it('puts its views only into containers it contributes or the built-in ones', () => {
    const ownContainers = Object.values(manifest.contributes.viewsContainers ?? {}).flat().map((c) => c.id);
    const builtIn = ['explorer', 'scm', 'debug', 'test', 'remote'];
    const unknown = Object.keys(manifest.contributes.views).filter((c) => !ownContainers.includes(c) && !builtIn.includes(c));
    assert.deepEqual(unknown, []);
  });

  it('prefixes every setting with bitcoinUsdt.', () => {
    const settings = Object.keys(manifest.contributes.configuration.properties);
    assert.ok(settings.length > 0);
    assert.deepEqual(settings.filter((id) => !id.startsWith(prefix)), []);
  });

  it('references only contributed commands in menus', () => {
    const dangling: string[] = [];
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const entry of entries) if (!commandIds.includes(entry.command)) dangling.push(`${menu}: ${entry.command}`);
    }
    assert.deepEqual(dangling, []);
  });

  it('references only contributed views in menus and welcome content', () => {
    const referenced = new Set<string>();
    for (const entries of Object.values(manifest.contributes.menus)) {
      for (const entry of entries) for (const match of (entry.when ?? '').matchAll(/\bview == ([\w.]+)/g)) referenced.add(match[1]);
    }
    for (const welcome of manifest.contributes.viewsWelcome ?? []) referenced.add(welcome.view);
    assert.deepEqual([...referenced].filter((id) => !viewIds.includes(id)), []);
  });

  it('links only contributed commands from welcome content', () => {
    const linked = (manifest.contributes.viewsWelcome ?? []).flatMap((w) => [...w.contents.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]));
    assert.deepEqual(linked.filter((id) => !commandIds.includes(id)), []);
  });

  it('makes the settings that decide what runs as root machine-scoped', () => {
    const properties = manifest.contributes.configuration.properties;
    for (const id of ['bitcoinUsdt.privilege', 'bitcoinUsdt.bpftracePath', 'bitcoinUsdt.pythonPath']) {
      assert.ok(properties[id], `${id} is not contributed`);
      assert.equal(properties[id].scope, 'machine', `${id} must have scope "machine"`);
    }
  });

  it('points main at the bundled extension', () => {
    assert.equal(manifest.main, './dist/extension.js');
  });
});
