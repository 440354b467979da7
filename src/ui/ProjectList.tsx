/**
 * The project list: empty state, create, open, rename, duplicate, delete (to the trash), the
 * deleted projects' trash, storage status.
 */
import { useEffect, useState } from 'react';
import { formatBytes } from '../core/imageio';
import { useLoupe } from '../state/react';
import type { ProjectSummary } from '../core/storage/projects';
import { Dialog } from './Dialog';
import { navigate } from './useHashRoute';
import { ImportProject } from './ImportProject';
import { StorageStatus } from './StorageStatus';
import { TrashButton } from './TrashDialog';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function ProjectList() {
  const projects = useLoupe((s) => s.projects);
  const loaded = useLoupe((s) => s.projectsLoaded);
  const loadProjects = useLoupe((s) => s.loadProjects);
  const createProject = useLoupe((s) => s.createProject);
  const [renaming, setRenaming] = useState<ProjectSummary | null>(null);
  const [deleting, setDeleting] = useState<ProjectSummary | null>(null);

  useEffect(() => {
    void loadProjects();
  }, [loadProjects]);

  const onCreate = async (): Promise<void> => {
    const id = await createProject();
    navigate({ page: 'project', projectId: id });
  };

  return (
    <main className="page projects-page">
      <div className="page-head">
        <h1>Projects</h1>
        <span className="row-actions">
          <ImportProject />
          <TrashButton scope="projects" />
          <button type="button" className="primary" onClick={() => void onCreate()}>
            New project
          </button>
        </span>
      </div>
      {loaded && projects.length === 0 && (
        <section className="empty-state" aria-label="Getting started">
          <p>
            Create a project, add a label for each kind of thing you want to recognise, then drop
            images onto the labels — everything stays on this device.
          </p>
        </section>
      )}
      <ul className="project-list" aria-label="Projects">
        {projects.map((p) => (
          <ProjectRow key={p.id} project={p} onRename={setRenaming} onDelete={setDeleting} />
        ))}
      </ul>
      <StorageStatus />
      <RenameDialog project={renaming} onClose={() => setRenaming(null)} />
      <DeleteProjectDialog project={deleting} onClose={() => setDeleting(null)} />
    </main>
  );
}

function ProjectRow(props: {
  project: ProjectSummary;
  onRename: (p: ProjectSummary) => void;
  onDelete: (p: ProjectSummary) => void;
}) {
  const { project } = props;
  const duplicate = useLoupe((s) => s.duplicateProject);
  const size = useLoupe((s) => s.projectSizes[project.id]);
  return (
    <li className="project-row">
      <a className="project-open" href={`#/p/${project.id}`}>
        {project.name}
      </a>
      <span className="project-meta">
        {plural(project.imageCount, 'image')} · {plural(project.labelCount, 'label')} ·{' '}
        {project.kind === 'multi-label' ? 'multi-label' : 'single-label'}
        {size !== undefined && <> · {formatBytes(size)}</>}
      </span>
      <span className="row-actions">
        <button
          type="button"
          aria-label={`Rename ${project.name}`}
          onClick={() => props.onRename(project)}
        >
          Rename
        </button>
        <button
          type="button"
          aria-label={`Duplicate ${project.name}`}
          onClick={() => void duplicate(project.id)}
        >
          Duplicate
        </button>
        <button
          type="button"
          className="danger"
          aria-label={`Delete ${project.name}`}
          onClick={() => props.onDelete(project)}
        >
          Delete
        </button>
      </span>
    </li>
  );
}

function RenameDialog(props: { project: ProjectSummary | null; onClose: () => void }) {
  const rename = useLoupe((s) => s.renameProject);
  const { project, onClose } = props;
  return (
    <Dialog title="Rename project" open={!!project} onClose={onClose}>
      {project && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const name = new FormData(e.currentTarget).get('name');
            void rename(project.id, String(name ?? '')).then(onClose);
          }}
        >
          <label>
            Project name
            <input name="name" defaultValue={project.name} autoFocus maxLength={120} />
          </label>
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary">
              Rename
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function DeleteProjectDialog(props: { project: ProjectSummary | null; onClose: () => void }) {
  const remove = useLoupe((s) => s.deleteProject);
  const { project, onClose } = props;
  return (
    <Dialog title="Delete project" open={!!project} onClose={onClose}>
      {project && (
        <>
          <p>
            Delete “{project.name}” with its {plural(project.imageCount, 'image')} and{' '}
            {plural(project.labelCount, 'label')}? It moves to the Trash, from which it can be
            restored.
          </p>
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => void remove(project.id).then(onClose)}
            >
              Delete project
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
