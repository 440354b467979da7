/**
 * The project board: project name, labels with their images, the unlabelled inbox, selection
 * actions, and the board-wide drop zone (folders with sub-folders become labels by name).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { LabelRecord, SampleMeta } from '../core/storage/schema';
import { useLoupe } from '../state/react';
import { forgetThumbnails } from '../state/thumbnails';
import { Dialog } from './Dialog';
import { filesFromInput } from './fileCollection';
import { LabelSection } from './LabelSection';
import { SampleDetail } from './SampleDetail';
import { TryPanel } from './TryPanel';
import { TrainPanel } from './TrainPanel';
import { EvaluationPanel } from './EvaluationPanel';
import { ProjectSettings } from './ProjectSettings';
import { ExportButton } from './ExportDialog';
import { useFileDrop } from './useFileDrop';

export function Board({ projectId }: { projectId: string }) {
  const project = useLoupe((s) => s.project);
  const loading = useLoupe((s) => s.boardLoading);
  const openProject = useLoupe((s) => s.openProject);
  const closeProject = useLoupe((s) => s.closeProject);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    let alive = true;
    void openProject(projectId).then((found) => alive && setMissing(!found));
    return () => {
      alive = false;
      closeProject();
      forgetThumbnails();
    };
  }, [projectId, openProject, closeProject]);

  if (missing) {
    return (
      <main className="page">
        <p role="alert">This project does not exist on this device (it may have been deleted).</p>
        <a href="#/">Back to projects</a>
      </main>
    );
  }
  if (!project || project.id !== projectId || loading) {
    return (
      <main className="page" aria-busy="true">
        <p>Opening project…</p>
      </main>
    );
  }
  return <BoardContent />;
}

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

function BoardContent() {
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
        <ThumbSizeSlider />
        <SelectionActions orderedIds={orderedIds} />
      </div>
      {labels.length === 0 && samples.length === 0 && (
        <p className="empty-state">
          Add a label for each kind of thing you want to recognise, then drop images onto it.
          Dropping a folder of sub-folders anywhere here creates one label per sub-folder.
        </p>
      )}
      <div className="board-layout">
        <div className="sections">
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

function ProjectNameField(props: { name: string; onRename: (name: string) => void }) {
  const [draft, setDraft] = useState(props.name);
  const [seen, setSeen] = useState(props.name);
  if (seen !== props.name) {
    setSeen(props.name);
    setDraft(props.name);
  }
  return (
    <input
      className="project-name"
      aria-label="Project name"
      value={draft}
      maxLength={120}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={() => draft.trim() !== props.name && props.onRename(draft)}
      onKeyDown={(e) => e.key === 'Enter' && e.currentTarget.blur()}
    />
  );
}

function ThumbSizeSlider() {
  const size = useLoupe((s) => s.thumbSize);
  const setSize = useLoupe((s) => s.setThumbSize);
  return (
    <label className="slider">
      Thumbnail size
      <input
        type="range"
        min={56}
        max={192}
        step={8}
        value={size}
        onChange={(e) => setSize(Number(e.target.value))}
      />
    </label>
  );
}

function SelectionActions({ orderedIds }: { orderedIds: readonly string[] }) {
  const selection = useLoupe((s) => s.selection);
  const labels = useLoupe((s) => s.labels);
  const selectMany = useLoupe((s) => s.selectMany);
  const clear = useLoupe((s) => s.clearSelection);
  const move = useLoupe((s) => s.moveSamples);
  const tag = useLoupe((s) => s.tagSamples);
  const multi = useLoupe((s) => s.project?.kind === 'multi-label');
  const remove = useLoupe((s) => s.deleteSamples);
  const [confirming, setConfirming] = useState(false);
  const ids = [...selection];

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (
        target &&
        (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT')
      )
        return;
      if ((e.ctrlKey || e.metaKey) && e.key === 'a') {
        e.preventDefault();
        selectMany(orderedIds);
      } else if (e.key === 'Escape') clear();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [orderedIds, selectMany, clear]);

  return (
    <span className="selection-actions">
      <button
        type="button"
        onClick={() => selectMany(orderedIds)}
        disabled={orderedIds.length === 0}
      >
        Select all
      </button>
      {ids.length > 0 && (
        <>
          <span aria-live="polite">{ids.length} selected</span>
          <label>
            Move selected to
            <select
              aria-label="Move selected to"
              value=""
              onChange={(e) => {
                const value = e.target.value;
                if (!value) return;
                void move(ids, value === '__inbox__' ? null : value).then(clear);
              }}
            >
              <option value="">Choose a label…</option>
              {labels.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
              <option value="__inbox__">Unlabelled images</option>
            </select>
          </label>
          {multi && (
            <label>
              Add label to selected
              <select
                aria-label="Add label to selected"
                value=""
                onChange={(e) => {
                  if (e.target.value) void tag(ids, e.target.value, true);
                }}
              >
                <option value="">Choose a label…</option>
                {labels.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete selected
          </button>
          <button type="button" onClick={clear}>
            Clear selection
          </button>
        </>
      )}
      <Dialog title="Delete images" open={confirming} onClose={() => setConfirming(false)}>
        <p>
          Delete {ids.length} selected image{ids.length === 1 ? '' : 's'} from this project? This
          cannot be undone.
        </p>
        <div className="dialog-actions">
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => {
              forgetThumbnails(ids);
              void remove(ids).then(() => setConfirming(false));
            }}
          >
            Delete images
          </button>
        </div>
      </Dialog>
    </span>
  );
}

function DeleteLabelDialog(props: {
  label: LabelRecord | null;
  count: number;
  onClose: () => void;
}) {
  const deleteLabel = useLoupe((s) => s.deleteLabel);
  const [mode, setMode] = useState<'move-to-inbox' | 'delete-images'>('move-to-inbox');
  const { label, count, onClose } = props;
  useEffect(() => {
    // A label without images goes without asking.
    if (label && count === 0) void deleteLabel(label.id, 'move-to-inbox').then(onClose);
  }, [label, count, deleteLabel, onClose]);
  return (
    <Dialog title="Delete label" open={!!label && count > 0} onClose={onClose}>
      {label && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void deleteLabel(label.id, mode).then(onClose);
          }}
        >
          <p>
            “{label.name}” has {count} image{count === 1 ? '' : 's'}. What should happen to them?
          </p>
          <fieldset>
            <label>
              <input
                type="radio"
                name="mode"
                checked={mode === 'move-to-inbox'}
                onChange={() => setMode('move-to-inbox')}
              />
              Move them to Unlabelled images
            </label>
            <label>
              <input
                type="radio"
                name="mode"
                checked={mode === 'delete-images'}
                onChange={() => setMode('delete-images')}
              />
              Delete them too
            </label>
          </fieldset>
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="danger">
              Delete label
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function MergeLabelDialog(props: {
  label: LabelRecord | null;
  labels: LabelRecord[];
  onClose: () => void;
}) {
  const merge = useLoupe((s) => s.mergeLabels);
  const { label, labels, onClose } = props;
  const others = labels.filter((l) => l.id !== label?.id);
  return (
    <Dialog title="Merge label" open={!!label} onClose={onClose}>
      {label && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const target = new FormData(e.currentTarget).get('target');
            if (typeof target === 'string' && target) void merge(label.id, target).then(onClose);
          }}
        >
          <label>
            Move every image of “{label.name}” into
            <select name="target" defaultValue={others[0]?.id ?? ''}>
              {others.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
          <p>“{label.name}” is removed afterwards.</p>
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={others.length === 0}>
              Merge
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
