import type { Page } from 'playwright-core';

export interface CompositeRow {
  method: 'grad-cam' | 'occlusion';
  ms: number;
  wallMs: number;
  leftOfLeft: number;
  leftOfRight: number;
}

export interface CompositeReport {
  head: 'knn' | 'dense';
  method: 'grad-cam' | 'occlusion' | null;
  composites: number;
  rate: number;
  controlRate: number;
  msPerExplanation: number;
  rows: CompositeRow[];
}

export declare function compositeCheck(
  page: Page,
  composites: { left: string; right: string; leftLabel: string; rightLabel: string }[],
  head: 'knn' | 'dense',
  method?: 'grad-cam' | 'occlusion',
): Promise<CompositeReport>;
