/** One line of the benchmark table every bench module returns (bench/index.ts prints them together). */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run (e.g. `cp` of the same files). */
  reference?: number;
  /** value / reference, or the quantity the target is stated in. */
  ratio?: number;
  /** The target in words, e.g. '<= 3x cp'. */
  target?: string;
  pass?: boolean;
}
