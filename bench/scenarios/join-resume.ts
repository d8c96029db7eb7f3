import type { ScenarioOptions, ScenarioResult } from '../lib/scenario.ts';
export async function joinResume(_options: ScenarioOptions): Promise<ScenarioResult> {
  return { scenario: 'join', tables: [], notes: ['todo'], data: null };
}
