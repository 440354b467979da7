/**
 * Jobs on the open project that run in another tab (embedding, training, head comparison, Review's
 * out-of-fold analysis), with their last reported progress: this tab does not start its own while
 * they run.
 */
import { useLoupe } from '../state/react';
import { JOB_KINDS, type JobKind } from '../core/sync/tabMessages';

const NAMES: Record<JobKind, string> = {
  embedding: 'Embedding',
  training: 'Training',
  evaluation: 'Comparing classifiers',
  outOfFold: 'Review analysis',
};

const UNITS: Record<JobKind, string> = {
  embedding: 'images',
  training: 'epochs',
  evaluation: '',
  outOfFold: '',
};

export function RemoteJobs() {
  const jobs = useLoupe((s) => s.remoteJobs);
  const running = JOB_KINDS.filter((job) => jobs[job]);
  if (running.length === 0) return null;
  return (
    <span role="status" data-testid="remote-jobs">
      {running
        .map((job) => {
          const p = jobs[job];
          const count = p && p.total > 0 ? `: ${p.done} / ${p.total} ${UNITS[job]}`.trimEnd() : '';
          return `${NAMES[job]} in another tab${count}`;
        })
        .join(' · ')}
    </span>
  );
}
