import type { Config } from '../config.js';
import { type KermaRuntime, openRuntime } from '../kerma-runtime.js';
import type { Workspace } from '../workspaces/workspace-service.js';

/**
 * What every data command does around its work: open the runtime, resolve the workspace (`--workspace`, or the only
 * one), run, and close the runtime whatever happened.
 * @example await withWorkspace(config, options.workspace, async (runtime, ws) => { … })
 */
export async function withWorkspace<R>(
  config: Config,
  workspaceId: string | undefined,
  body: (runtime: KermaRuntime, workspace: Workspace) => Promise<R>,
): Promise<R> {
  const runtime = await openRuntime(config);
  try {
    return await body(runtime, await runtime.workspaces.resolve(workspaceId));
  } finally {
    await runtime.close();
  }
}

/** An importer's rejected rows, the first 20 with their line, then how many more. */
export function printRejected(
  rejected: Array<{ line: number; reason: string }>,
  out: NodeJS.WritableStream = process.stdout,
): void {
  for (const r of rejected.slice(0, 20)) out.write(`  line ${r.line}: ${r.reason}\n`);
  if (rejected.length > 20) out.write(`  … and ${rejected.length - 20} more\n`);
}
