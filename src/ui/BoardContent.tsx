/**
 * The open project's board: project name, toolbar (add label, folder import, export, thumbnail
 * size, selection actions), labels with their images, the unlabelled inbox, the model sidebar, the
 * board-wide drop zone (folders with sub-folders become labels by name) and paste into the active
 * label or inbox. Groups samples by label and keeps each label's array stable while it is unchanged.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { LabelRecord, SampleMeta } from '../core/storage/schema';
import { useLoupe } from '../state/react';
import { filesFromInput } from './fileCollection';
import { LabelSection } from './LabelSection';
import { SampleDetail } from './SampleDetail';
import { TryPanel } from './TryPanel';
import { TrainPanel } from './TrainPanel';
import { EvaluationPanel } from './EvaluationPanel';
import { ProjectSettings } from './ProjectSettings';
import { ExportButton } from './ExportDialog';
import { useFileDrop } from './useFileDrop';
import { ProjectNameField } from './ProjectNameField';
import { ThumbSizeSlider } from './ThumbSizeSlider';
import { SelectionActions } from './SelectionActions';
import { DeleteLabelDialog, MergeLabelDialog } from './LabelDialogs';
import { TrashButton } from './TrashDialog';
import { UndoButton } from './UndoButton';
import { BatchClassifyInputs, BatchPanel } from './BatchPanel';
import { ReviewButton, ReviewPanel } from './Review';
import { KeyboardShortcutsButton } from './KeyboardShortcuts';

const EMPTY: SampleMeta[] = [];

function keepUnchanged(
  before: Map<string | null, SampleMeta[]>,
  after: Map<string | null, SampleMeta[]>,
): Map<string | null, SampleMeta[]> {
  const out = new Map<string | null, SampleMeta[]>();
  for (const [key, list] of after) {
    const old = before.get(key);
    out.set(
      key,
      old && old.length === list.length && old.every((s, i) => s === list[i]) ? old : list,
    );
  }
  return out;
}

function groupSamples(labels: LabelRecord[], samples: SampleMeta[]) {
  const byLabel = new Map<string | null, SampleMeta[]>(labels.map((l) => [l.id, []]));
  byLabel.set(null, []);
  for (const s of samples) {
    if (s.labelIds.length === 0) byLabel.get(null)?.push(s);
    for (const id of s.labelIds) byLabel.get(id)?.push(s);
  }
  const orderedIds = [...labels.map((l) => l.id), null].flatMap((id) =>
    (byLabel.get(id) ?? []).map((s) => s.id),
  );
  return { byLabel, orderedIds };
}

export function BoardContent() {
  const project = useLoupe((s) => s.project)!;
  const labels = useLoupe((s) => s.labels);
  const samples = useLoupe((s) => s.samples);
  const addLabel = useLoupe((s) => s.addLabel);
  const addFiles = useLoupe((s) => s.addFiles);
  const renameProject = useLoupe((s) => s.renameProject);
  const activeLabelId = useLoupe((s) => s.activeLabelId);
  const grouped = useMemo(() => groupSamples(labels, samples), [labels, samples]);
  const { orderedIds } = grouped;
  // Keep each label's array identical while its images are unchanged, so memoised sections skip
  // re-rendering when an import chunk lands in another label (derived state, adjusted in render).
  const [seen, setSeen] = useState(grouped);
  const [byLabel, setByLabel] = useState(grouped.byLabel);
  if (seen !== grouped) {
    setSeen(grouped);
    setByLabel(keepUnchanged(byLabel, grouped.byLabel));
  }
  const orderedRef = useRef(orderedIds);
  useEffect(() => {
    orderedRef.current = orderedIds;
  }, [orderedIds]);
  const getOrderedIds = useCallback(() => orderedRef.current, []);
  const [deleting, setDeleting] = useState<LabelRecord | null>(null);
  const [merging, setMerging] = useState<LabelRecord | null>(null);
  const drop = useFileDrop((files) => void addFiles(files, { kind: 'board' }, 'drop'));

  useEffect(() => {
    const onPaste = (e: ClipboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
      // A paste inside the try panel tries the image; it is not added to the project.
      if (target?.closest?.('[data-paste-target="try"]')) return;
      const files = Array.from(e.clipboardData?.files ?? []);
      if (files.length === 0) return;
      e.preventDefault();
      const pathed = files.map((file, i) => ({
        file: file.name
          ? file
          : new File([file], `pasted-${Date.now()}-${i}.png`, { type: file.type }),
        path: file.name || `pasted-${i}`,
      }));
      void addFiles(
        pathed,
        activeLabelId ? { kind: 'label', labelId: activeLabelId } : { kind: 'inbox' },
        'paste',
      );
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [addFiles, activeLabelId]);

  return (
    <main className={`page board${drop.over ? ' drop-over' : ''}`} {...drop.handlers}>
      <div className="board-head">
        <a href="#/" className="back-link">
          ← All projects
        </a>
        <ProjectNameField
          name={project.name}
          onRename={(name) => void renameProject(project.id, name)}
        />
        <span className="project-meta">
          {samples.length} images · {labels.length} labels
        </span>
      </div>
      <div className="toolbar" role="toolbar" aria-label="Board actions">
        <button type="button" className="primary" onClick={() => void addLabel()}>
          Add label
        </button>
        <label className="button">
          Import folders as labels
          <input
            type="file"
            className="visually-hidden"
            aria-label="Import a folder of labelled sub-folders"
            {...{ webkitdirectory: '', directory: '' }}
            onChange={(e) => {
              void addFiles(filesFromInput(e.currentTarget.files), { kind: 'board' }, 'folder');
              e.currentTarget.value = '';
            }}
          />
        </label>
        <ExportButton />
        <BatchClassifyInputs />
        <ReviewButton />
        <KeyboardShortcutsButton />
        <ThumbSizeSlider />
        <SelectionActions orderedIds={orderedIds} />
        <UndoButton />
        <TrashButton scope="project" />
      </div>
      {labels.length === 0 && samples.length === 0 && (
        <p className="empty-state">
          Add a label for each kind of thing you want to recognise, then drop images onto it.
          Dropping a folder of sub-folders anywhere here creates one label per sub-folder.
        </p>
      )}
      <ReviewPanel />
      <div className="board-layout">
        <div className="sections">
          <BatchPanel />
          {labels.map((label) => (
            <LabelSection
              key={label.id}
              label={label}
              samples={byLabel.get(label.id) ?? EMPTY}
              getOrderedIds={getOrderedIds}
              onDelete={setDeleting}
              onMerge={setMerging}
            />
          ))}
          <LabelSection
            label={null}
            samples={byLabel.get(null) ?? EMPTY}
            getOrderedIds={getOrderedIds}
          />
        </div>
        <aside className="sidebar" aria-label="Model">
          <SampleDetail />
          <TryPanel />
          <TrainPanel />
          <EvaluationPanel />
          <ProjectSettings />
        </aside>
      </div>
      <DeleteLabelDialog
        label={deleting}
        count={deleting ? (byLabel.get(deleting.id)?.length ?? 0) : 0}
        onClose={() => setDeleting(null)}
      />
      <MergeLabelDialog label={merging} labels={labels} onClose={() => setMerging(null)} />
    </main>
  );
}
