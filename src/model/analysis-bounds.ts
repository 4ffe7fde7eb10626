/**
 * Inclusive integer bounds of the analysis fields, the one owner for both the Canary construct
 * (`analysis.maxWeight: must be an integer from 1 to 100`) and the Flagger YAML schema refinement
 * (`spec.analysis.maxWeight: must be <= 100 (line 34)`). Flagger's CRD only says `number`.
 */
export interface Bounds {
  readonly min: number;
  /** Absent: no upper bound. */
  readonly max?: number;
}

export const ANALYSIS_BOUNDS = {
  // No upper bound: Flagger counts failed checks up to any int (canary.go GetAnalysisThreshold).
  threshold: { min: 1 } as Bounds,
  maxWeight: { min: 1, max: 100 },
  stepWeight: { min: 1, max: 100 },
  stepWeights: { min: 1, max: 100 },
  stepWeightPromotion: { min: 0, max: 100 },
  iterations: { min: 1, max: 10_000 },
  mirrorWeight: { min: 0, max: 100 },
  primaryReadyThreshold: { min: 1, max: 100 },
  canaryReadyThreshold: { min: 1, max: 100 },
} as const;

export type BoundedAnalysisField = keyof typeof ANALYSIS_BOUNDS;
