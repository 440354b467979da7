/**
 * Explain a prediction: asks the engine worker for a heatmap of what drives the selected
 * classifier's (KNN or dense) predicted label on the try image or on one stored sample, with the
 * project's backbone and aspect mode. The components keep the switch, the opacity and the result;
 * this slice only makes the call.
 */
import { projectBackboneSpec } from '../core/projectSettings';
import type { Explanation } from '../worker/api';
import type { SliceCreator } from './store';

/** What to explain: the try panel's current image, or a stored sample. */
export type ExplainTarget = { kind: 'try' } | { kind: 'sample'; sampleId: string };

export interface ExplainSlice {
  /** The heatmap of the selected classifier's predicted label (null without a project or image). */
  explain(target: ExplainTarget, signal: AbortSignal): Promise<Explanation | null>;
}

export const createExplainSlice: SliceCreator<ExplainSlice> = (_set, get, services) => ({
  async explain(target, signal) {
    const { project, classifier, tryPreviewUrl } = get();
    const engine = services.engine;
    if (!project || !engine) return null;
    let image: Blob | { sampleId: string };
    if (target.kind === 'sample') image = { sampleId: target.sampleId };
    else if (tryPreviewUrl) image = await (await fetch(tryPreviewUrl)).blob();
    else return null;
    return engine.explain({
      image,
      head: classifier,
      spec: projectBackboneSpec(project),
      aspectMode: project.settings.aspectMode,
      signal,
    });
  },
});
