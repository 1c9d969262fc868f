/** Why one requested tool was refused: its own message, and the binary's fault said for every tool (or null). */
export interface ToolRefusal {
  readonly tool: string;
  readonly message: string;
  readonly shared: string | null;
}

/**
 * One notice per cause for the tools refused out of `requested` started together: tools refused for the same
 * reason are named together, and a binary that is not a bitcoind is said once, without each tool's needs (a
 * source file picked for six tools is one sentence, not six). A single request keeps its own message.
 */
export function refusalNotices(refusals: readonly ToolRefusal[], requested: number): string[] {
  const toolsByCause = new Map<string, string[]>();
  for (const refusal of refusals) {
    const cause = requested > 1 && refusal.shared !== null ? refusal.shared : refusal.message;
    toolsByCause.set(cause, [...(toolsByCause.get(cause) ?? []), refusal.tool]);
  }
  return [...toolsByCause].map(([cause, tools]) => (requested > 1 ? `${tools.join(', ')}: ${cause}` : cause));
}
