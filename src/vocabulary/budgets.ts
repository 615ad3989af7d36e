/**
 * The one table of budget metrics (`budget macs <= 40G` in a spec, `--budget macs=2G` on
 * the command line): the name each is written as in prose and tables, the noun a
 * diagnostic uses, and where its value is read from a network's cost totals. Adding a
 * metric is one entry here.
 */
export interface CostOfBudget {
  readonly macs: number;
  readonly flops: number;
  readonly params: { readonly total: number };
}

export const BUDGET_METRICS = {
  macs: { name: "MACs", noun: "multiply-adds", of: (c: CostOfBudget) => c.macs },
  flops: { name: "FLOPs", noun: "FLOPs", of: (c: CostOfBudget) => c.flops },
  params: { name: "parameters", noun: "parameters", of: (c: CostOfBudget) => c.params.total },
} as const;

export type BudgetMetric = keyof typeof BUDGET_METRICS;

export const BUDGET_METRIC_NAMES = Object.keys(BUDGET_METRICS) as BudgetMetric[];

/** A metric's value in a network's cost totals. */
export const metricValue = (metric: BudgetMetric, cost: CostOfBudget): number => BUDGET_METRICS[metric].of(cost);
