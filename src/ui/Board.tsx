/**
 * The project board route: opens the project named in the URL, shows a notice while it opens or
 * when it does not exist, closes it (and forgets its thumbnails) on leaving, and otherwise renders
 * the board itself (BoardContent).
 */
import { useEffect, useState } from 'react';
import { useLoupe } from '../state/react';
import { forgetThumbnails } from '../state/thumbnails';
import { BoardContent } from './BoardContent';

export function Board({ projectId }: { projectId: string }) {
  const project = useLoupe((s) => s.project);
  const loading = useLoupe((s) => s.boardLoading);
  const openProject = useLoupe((s) => s.openProject);
  const closeProject = useLoupe((s) => s.closeProject);
  const [missing, setMissing] = useState(false);
  const deletedElsewhere = useLoupe((s) => s.projectDeletedElsewhere === projectId);

  useEffect(() => {
    let alive = true;
    void openProject(projectId).then((found) => alive && setMissing(!found));
    return () => {
      alive = false;
      closeProject();
      forgetThumbnails();
    };
  }, [projectId, openProject, closeProject]);

  if (missing || deletedElsewhere) {
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
