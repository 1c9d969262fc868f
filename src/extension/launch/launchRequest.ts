import type { ToolDefinition, ToolParameter } from '../../core/tools/toolCatalog';

/**
 * What to probe: the typed argument of `bitcoinUsdt.startProbe` for tests and automation (skips the
 * pickers), and what the pickers produce.
 */
export interface LaunchRequest {
  /** A tool id of the tool catalog, e.g. "p2p-traffic". */
  readonly tool: string;
  /** Absolute path of the bitcoind binary. */
  readonly binaryPath: string;
  /** One process, or every process running the binary (the default). */
  readonly pid?: number | 'all';
  /** Re-attach when the process exits and the binary is started again (needs a pid). */
  readonly follow?: boolean;
  /**
   * The tool's parameters by name (connectblock-benchmark: `start`, `end`, `threshold_ms`), checked against
   * the tool's patterns like the prompts check them; a parameter left out takes the helper's default.
   */
  readonly params?: Readonly<Record<string, string>>;
  /** What the session's recording is named after besides its tool: the functional test it traces (`p2p_ping`). */
  readonly recordingName?: string;
}

/** Tells a LaunchRequest from a tree node (TreeNodeTarget has no `tool`). */
export function isLaunchRequest(value: unknown): value is LaunchRequest {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  const pidOk =
    candidate.pid === undefined || candidate.pid === 'all' || (typeof candidate.pid === 'number' && Number.isSafeInteger(candidate.pid) && candidate.pid > 0);
  return (
    typeof candidate.tool === 'string' &&
    typeof candidate.binaryPath === 'string' &&
    pidOk &&
    (candidate.follow === undefined || typeof candidate.follow === 'boolean') &&
    (candidate.params === undefined || isStringRecord(candidate.params)) &&
    (candidate.recordingName === undefined || typeof candidate.recordingName === 'string')
  );
}

function isStringRecord(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === 'string');
}

export function requestedPid(request: LaunchRequest): number | null {
  return typeof request.pid === 'number' ? request.pid : null;
}

/** What a parameter is when nobody says otherwise (the helper's default too: 0 = from the start / no end / every block). */
export function parameterDefault(_parameter: ToolParameter): string {
  return '0';
}

/**
 * Why a parameter value cannot be used, or undefined when it can. `others` are the values of the tool's other
 * parameters so far (the benchmark's end height may not be below its start height, 0 being "no end").
 */
export function parameterProblem(parameter: ToolParameter, value: string, others: Readonly<Record<string, string>> = {}): string | undefined {
  if (!new RegExp(parameter.pattern).test(value)) {
    return parameter.pattern === '^(?:0|[1-9][0-9]{0,9})$'
      ? `${parameter.name} must be a whole number from 0 to 9999999999, without leading zeros or spaces`
      : `${parameter.name}: ${parameter.description}`;
  }
  if (parameter.name === 'end' && value !== '0' && others.start !== undefined && Number(value) < Number(others.start)) {
    return `end (${value}) must not be below start (${others.start}); 0 means no end`;
  }
  return undefined;
}

/**
 * The request's parameters in the tool's order, every one checked; throws an Error saying what is wrong
 * (an unknown name, a value the pattern refuses).
 */
export function validatedParams(tool: ToolDefinition, params: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const checked: Record<string, string> = {};
  if (params === undefined) return checked;
  for (const name of Object.keys(params)) {
    if (!tool.parameters.some((p) => p.name === name)) {
      const known = tool.parameters.map((p) => p.name).join(', ');
      throw new Error(`${tool.id} takes no parameter ${JSON.stringify(name)}${known ? ` (its parameters: ${known})` : ' (it has no parameters)'}.`);
    }
  }
  for (const parameter of tool.parameters) {
    const value = params[parameter.name];
    if (value === undefined) continue;
    const problem = parameterProblem(parameter, value, checked);
    if (problem) throw new Error(`Parameter ${problem} (got ${JSON.stringify(value.slice(0, 40))}).`);
    checked[parameter.name] = value;
  }
  return checked;
}
