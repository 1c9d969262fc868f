// The root boundary as declared and coded: the manifest's untrusted-workspace declaration, machine scope on every
// setting that decides what runs as root, the Start probe command disabled until the workspace is trusted, and
// the code paths that start the helper checking trust and reading only user-level values. The real-VS-Code side
// (a workspace whose settings try to change each value) is test/integration/rootBoundary.test.ts.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '..', '..');

interface Manifest {
  capabilities: { untrustedWorkspaces: { supported: boolean | 'limited'; restrictedConfigurations?: string[]; description?: string } };
  contributes: {
    commands: Array<{ command: string; enablement?: string }>;
    configuration: { properties: Record<string, { scope?: string }> };
  };
}

const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Manifest;
const source = (relative: string): string => readFileSync(join(REPO, relative), 'utf8');

/** Settings whose value ends up in the command that runs as root. */
const ROOT_SETTINGS = ['bitcoinUsdt.privilege', 'bitcoinUsdt.bpftracePath', 'bitcoinUsdt.pythonPath'];

describe('root boundary and untrusted workspaces (manifest and code)', () => {
  it('declares limited support for untrusted workspaces, saying that probes are disabled there', () => {
    const declared = manifest.capabilities.untrustedWorkspaces;
    assert.equal(declared.supported, 'limited');
    assert.match(declared.description ?? '', /disabled until the workspace is trusted/);
    assert.ok(declared.restrictedConfigurations?.includes('bitcoinUsdt.bitcoindPaths'), 'workspace-provided binary paths are ignored when untrusted');
  });

  it('every setting that decides what runs as root is machine-scoped (a workspace cannot set it)', () => {
    const properties = manifest.contributes.configuration.properties;
    for (const key of ROOT_SETTINGS) assert.equal(properties[key]?.scope, 'machine', key);
    // Nothing else the configuration declares may be machine-overridable by a workspace and reach the helper.
    const rootCommand = source('src/extension/launch/rootCommand.ts') + source('src/extension/config.ts');
    for (const key of Object.keys(properties)) {
      const name = key.replace('bitcoinUsdt.', '');
      if (!ROOT_SETTINGS.includes(key)) assert.ok(!new RegExp(`machineValue<[^>]+>\\('${name}'`).test(rootCommand), `${key} feeds the root command but is not in ROOT_SETTINGS`);
    }
  });

  it('Start probe is disabled (enablement) in an untrusted workspace', () => {
    const start = manifest.contributes.commands.find((c) => c.command === 'bitcoinUsdt.startProbe');
    assert.equal(start?.enablement, 'isWorkspaceTrusted');
  });

  it('both ways into a launch check workspace trust before anything else', () => {
    const command = source('src/extension/launch/registerProbeLauncher.ts');
    const launcher = source('src/extension/launch/probeLauncher.ts');
    const commandBody = command.slice(command.indexOf('const startProbe = async'));
    assert.match(commandBody.slice(0, 400), /if \(!vscode\.workspace\.isTrusted\) \{\s*throw new LaunchRefused/);
    const startBody = launcher.slice(launcher.indexOf('async startTogether(requests: readonly LaunchRequest[])'));
    assert.match(startBody.slice(0, 300), /if \(!vscode\.workspace\.isTrusted\) \{\s*throw new LaunchRefused/);
  });

  it('Trace functional test: disabled (enablement) in an untrusted workspace, refused before anything else, and no CodeLens there', () => {
    const command = manifest.contributes.commands.find((c) => c.command === 'bitcoinUsdt.traceFunctionalTest');
    assert.equal(command?.enablement, 'isWorkspaceTrusted');
    const feature = source('src/extension/functionalTest/registerFunctionalTest.ts');
    const commandBody = feature.slice(feature.indexOf('const traceFunctionalTest = async'));
    assert.match(commandBody.slice(0, 600), /if \(!vscode\.workspace\.isTrusted\) return fail\(UNTRUSTED_MESSAGE\);/);
    const lensBody = feature.slice(feature.indexOf('provideCodeLenses(document)'));
    assert.match(lensBody.slice(0, 300), /if \(!vscode\.workspace\.isTrusted \|\| .*\) return \[\];/);
  });

  it('root settings are read from the user level only (inspect().globalValue, never get())', () => {
    const config = source('src/extension/config.ts');
    const machineValue = config.slice(config.indexOf('function machineValue'), config.indexOf('export interface RootSettings'));
    assert.match(machineValue, /inspect<T>\(key\)/);
    assert.match(machineValue, /return inspected\?\.globalValue \?\? inspected\?\.defaultValue \?\? fallback;/);
    assert.doesNotMatch(machineValue, /workspaceValue|workspaceFolderValue|\.get\(/);
    const readRootSettings = config.slice(config.indexOf('export function readRootSettings'), config.indexOf('/** Extra bitcoind paths'));
    assert.doesNotMatch(readRootSettings, /\.get[<(]|process\.env/);
  });

  it('the terminal that runs the helper gets a fixed environment (strictEnv), an absolute shell and cwd /', () => {
    const terminal = source('src/extension/launch/helperTerminal.ts');
    assert.match(terminal, /shellPath: TERMINAL_SHELL_PATH/);
    assert.match(terminal, /env: \{ \.\.\.TERMINAL_ENVIRONMENT \}/);
    assert.match(terminal, /strictEnv: true/);
    assert.match(terminal, /cwd: '\/'/);
    const rootCommand = source('src/extension/launch/rootCommand.ts');
    assert.doesNotMatch(rootCommand, /process\.env|workspaceFolders|getConfiguration/);
  });
});
