import * as vscode from 'vscode';

export type PrivilegeMode = 'auto' | 'sudo' | 'pkexec' | 'none';

const SECTION = 'bitcoinUsdt';

/**
 * Settings that decide what runs as root. Only the user's (machine/global) value or the default is
 * ever used: a workspace or folder value, even one VS Code would apply, is ignored.
 */
function machineValue<T>(key: string, fallback: T): T {
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
}

export interface RootSettings {
  readonly privilege: PrivilegeMode;
  readonly bpftracePath: string;
  readonly pythonPath: string;
}

export function readRootSettings(): RootSettings {
  const privilege = machineValue<string>('privilege', 'auto');
  return {
    privilege: (['auto', 'sudo', 'pkexec', 'none'] as const).includes(privilege as PrivilegeMode) ? (privilege as PrivilegeMode) : 'auto',
    bpftracePath: machineValue<string>('bpftracePath', ''),
    pythonPath: machineValue<string>('pythonPath', '/usr/bin/python3') || '/usr/bin/python3',
  };
}

/** Extra bitcoind paths; ignored from untrusted workspaces (declared in restrictedConfigurations). */
export function readBitcoindPaths(folder?: vscode.WorkspaceFolder): string[] {
  const value = vscode.workspace.getConfiguration(SECTION, folder?.uri).get<unknown>('bitcoindPaths', []);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : [];
}

export function affectsSetting(event: vscode.ConfigurationChangeEvent, key: string): boolean {
  return event.affectsConfiguration(`${SECTION}.${key}`);
}
