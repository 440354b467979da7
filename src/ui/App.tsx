/**
 * App shell: header, the routed page (project list or board), import and embedding progress (on a
 * board in a strip of fixed height), notices and the status bar.
 */
import { ProjectList } from './ProjectList';
import { Board } from './Board';
import { Notices } from './Notices';
import { ImportProgressBar } from './ImportProgressBar';
import { EmbeddingProgressBar, StatusBar } from './StatusBar';
import { navigate, useHashRoute } from './useHashRoute';

export function App() {
  const route = useHashRoute();
  return (
    <div className="app">
      <header className="app-header">
        <a className="brand" href="#/" onClick={() => navigate({ page: 'projects' })}>
          <svg aria-hidden="true" viewBox="0 0 32 32" width="22" height="22">
            <circle cx="13" cy="13" r="9" fill="none" stroke="currentColor" strokeWidth="4" />
            <path d="M20 20l8 8" stroke="currentColor" strokeWidth="4" strokeLinecap="round" />
          </svg>
          Loupe
        </a>
        <span className="tagline">
          Image classifiers, trained in your browser. Nothing leaves this device.
        </span>
      </header>
      {/* On a board the import and embedding bars share one strip of fixed height, there or
          not: the board below never moves when a task starts or ends (a drop lands where it
          was aimed). */}
      <div className={route.page === 'project' ? 'task-strip' : undefined}>
        <ImportProgressBar />
        <EmbeddingProgressBar />
      </div>
      <Notices />
      {route.page === 'project' ? <Board projectId={route.projectId} /> : <ProjectList />}
      <StatusBar />
    </div>
  );
}
