/**
 * The engine worker's Review jobs, as methods the worker's API spreads in: `labelNext` and
 * `clusters` on the open project's heads, and the measurements `simulateReview` and
 * `simulateMislabels` (need an open project), `benchReview` (clustering, label next; needs none)
 * and `benchAnalysis` (out-of-fold KNN, near-duplicates). Each runs as a cancellable job of the
 * worker's registry.
 */
import type { Clustering } from '../core/analysis/clusters';
import type { LoupeDatabase } from '../core/storage/db';
import { projectClusters } from './clusters';
import type { ProjectHeads } from './headsService';
import type { JobRegistry } from './jobs';
import { projectLabelNext, type LabelNextResult } from './labelNext';
import {
  benchAnalysis,
  simulateMislabels,
  type AnalysisBench,
  type BenchCall,
  type MislabelSimulation,
  type SimulateCall,
} from './reviewBench';
import {
  benchReview,
  simulateReview,
  type ReviewBench,
  type ReviewSimulation,
  type ReviewSimulationOptions,
} from './reviewSimulation';

export function reviewJobs(
  jobs: JobRegistry,
  db: () => Promise<LoupeDatabase>,
  openHeads: () => ProjectHeads,
) {
  return {
    async labelNext(jobId: string, call: { limit?: number }): Promise<LabelNextResult> {
      const open = openHeads();
      return jobs.run(jobId, async (signal) =>
        projectLabelNext(await db(), open, { ...call, signal }),
      );
    },

    async clusters(jobId: string, call: { k?: number | 'auto' }): Promise<Clustering> {
      const open = openHeads();
      return jobs.run(jobId, async (signal) =>
        projectClusters(await db(), open, { ...call, signal }),
      );
    },

    async simulateReview(jobId: string, call: ReviewSimulationOptions): Promise<ReviewSimulation> {
      const open = openHeads();
      return jobs.run(jobId, (signal) => simulateReview(open, { ...call, signal }));
    },

    async benchReview(jobId: string, call: { n?: number; dim?: number }): Promise<ReviewBench> {
      return jobs.run(jobId, (signal) => benchReview({ ...call, signal }));
    },

    async simulateMislabels(jobId: string, call: SimulateCall): Promise<MislabelSimulation> {
      const open = openHeads();
      return jobs.run(jobId, async (signal) => simulateMislabels(open, { ...call, signal }));
    },

    async benchAnalysis(jobId: string, call: BenchCall): Promise<AnalysisBench> {
      const open = openHeads();
      return jobs.run(jobId, async (signal) => benchAnalysis(open, { ...call, signal }));
    },
  };
}
