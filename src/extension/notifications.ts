// Every notification of the extension goes through here: VS Code renders `[label](command:…)` links in
// notification text, and the messages quote strings from outside (bpftrace's errors quoting a binary's
// notes, a recording's header, a setting's path). notificationText keeps each a plain, visible text.

import * as vscode from 'vscode';
import { notificationText } from '../shared/untrustedText';

export function showError(message: string, options: vscode.MessageOptions = {}, ...items: string[]): Thenable<string | undefined> {
  return vscode.window.showErrorMessage(notificationText(message), options, ...items);
}

export function showWarning(message: string, options: vscode.MessageOptions = {}, ...items: string[]): Thenable<string | undefined> {
  return vscode.window.showWarningMessage(notificationText(message), options, ...items);
}

export function showInformation(message: string, options: vscode.MessageOptions = {}, ...items: string[]): Thenable<string | undefined> {
  return vscode.window.showInformationMessage(notificationText(message), options, ...items);
}
