import type { ScenarioOptions, ScenarioResult } from '../lib/scenario.ts';
export async function store(_options: ScenarioOptions): Promise<ScenarioResult> {
  return { scenario: 'store', tables: [], notes: ['todo'], data: null };
}
