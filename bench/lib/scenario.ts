/** What every scenario returns: tables to print (and to paste into docs) and raw JSON. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

export interface ScenarioResult {
  scenario: string;
  tables: Table[];
  notes: string[];
  data: unknown;
}

export interface ScenarioOptions {
  tiny: boolean;
  /** Fan-out sizes to run (full: 100, 500, 2000, 10000). */
  sizes?: number[];
  /**
   * Servers to include (default: all; beacon-v15 up to N = 2,000). Fan-out: any of beacon (plain
   * ws://), beacon-v15 (members without 'members' in hello), beacon-tls, naive-ws, socket.io, bun;
   * join: the Beacon ones (beacon, beacon-tls), others ignored.
   */
  servers?: string[];
  log: (line: string) => void;
}
