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
  /** Fan-out sizes to run (full: 100, 500, 2000). */
  sizes?: number[];
  /**
   * Servers to include (default: all). Fan-out: any of beacon (plain ws://), beacon-tls, naive-ws,
   * socket.io, bun; join: the Beacon ones (beacon, beacon-tls), others ignored.
   */
  servers?: string[];
  log: (line: string) => void;
}
