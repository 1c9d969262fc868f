// probes/tools.json is the one list of tools: its TypeScript view (toolManifest.ts), the helper's reading of
// it (the real probes/bitcoin-usdt-helper.py, run by python3), the CLI and the panel titles agree with it.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProbeCommand } from '../../src/cli/runCommand';
import { TOOLS } from '../../src/core/tools/toolCatalog';
import { MANIFEST_TOOLS, TOOL_IDS, TOOL_TITLES } from '../../src/core/tools/toolManifest';
import { TOOL_PANEL_TITLES, TOOL_PANEL_TOOLS } from '../../src/shared/toolPanelProtocol';

const PROBES = join(__dirname, '..', '..', 'probes');
const MANIFEST = JSON.parse(readFileSync(join(PROBES, 'tools.json'), 'utf8')) as { tools: Array<{ id: string }> };

describe('tool manifest (probes/tools.json)', () => {
  it('lists exactly the ids of the ToolId union, in its order', () => {
    assert.deepEqual(MANIFEST.tools.map((t) => t.id), [...TOOL_IDS]);
    assert.deepEqual(MANIFEST_TOOLS.map((t) => t.id), [...TOOL_IDS]);
  });

  it('names a script in probes/ for each tool, run by the front end its extension says (a generated tool has none)', () => {
    for (const tool of TOOLS) {
      if (tool.generated) {
        assert.equal(tool.script, '', tool.id);
        assert.equal(tool.frontEnd, 'bpftrace', tool.id);
        continue;
      }
      assert.ok(existsSync(join(PROBES, tool.script)), tool.script);
      assert.equal(tool.frontEnd, tool.script.endsWith('.py') ? 'bcc' : 'bpftrace', tool.id);
      for (const p of tool.parameters) assert.match(p.default, new RegExp(p.pattern), `${tool.id} ${p.name} default`);
    }
  });

  it('is what the privileged helper reads: the same tools, scripts, parameter patterns and bpftrace order', () => {
    const script = [
      'import importlib.util, json, sys',
      `spec = importlib.util.spec_from_file_location('helper', ${JSON.stringify(join(PROBES, 'bitcoin-usdt-helper.py'))})`,
      'helper = importlib.util.module_from_spec(spec); spec.loader.exec_module(helper)',
      'print(json.dumps(helper.tool_manifest()))',
    ].join('\n');
    const helper = JSON.parse(execFileSync('python3', ['-I', '-S', '-c', script], { encoding: 'utf8' })) as Record<
      string,
      { script: string; params: Record<string, string>; positional: Array<[string, string]> }
    >;
    assert.deepEqual(Object.keys(helper), [...TOOL_IDS]);
    for (const tool of TOOLS) {
      const seen = helper[tool.id];
      assert.equal(seen.script, tool.script);
      // A generated tool's parameters make its program; bpftrace gets none of them as positional parameters.
      assert.deepEqual(seen.positional, tool.generated ? [] : tool.parameters.map((p) => [p.name, p.default]));
      for (const p of tool.parameters) assert.equal(`^(?:${seen.params[p.name]})$`, p.pattern);
    }
  });

  it('gives each tool one title: the catalog and the CLI help agree; its panel a short tab title of its own', () => {
    // Tab titles are short so that six tabs fit beside the source at 1600×1000 (the six-tools real-node screenshot).
    for (const tool of TOOL_PANEL_TOOLS) assert.ok(TOOL_PANEL_TITLES[tool].length <= 18 && TOOL_PANEL_TITLES[tool].length <= TOOL_TITLES[tool].length, `${tool}: ${TOOL_PANEL_TITLES[tool]}`);
    assert.equal(new Set(Object.values(TOOL_PANEL_TITLES)).size, TOOL_PANEL_TOOLS.length, 'tab titles are distinct');
    for (const tool of TOOLS) {
      assert.equal(tool.title, TOOL_TITLES[tool.id]);
      assert.ok(runProbeCommand.help.includes(`${tool.id}  ${tool.title}`) || runProbeCommand.help.includes(tool.title), tool.id);
    }
  });

  it('gives the CLI one option per tool parameter, shown in its help', () => {
    for (const tool of TOOLS) {
      for (const p of tool.parameters) assert.ok(runProbeCommand.help.includes(`--${p.option} ${p.metavar}`), `${tool.id} --${p.option}`);
    }
  });
});
