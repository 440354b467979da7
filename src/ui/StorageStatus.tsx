/**
 * The `Storage` status (on the project list): this site's usage and quota, and whether the browser keeps the data
 * persistently; when it does not, what that means and a button to ask again; the bytes the trash
 * holds (they count toward usage). Re-read, with each project's size (shown on its row), when the
 * number of images or projects changes (imports, deletes).
 */
import { useCallback, useEffect, useState } from 'react';
import {
  describePersistence,
  describeUsage,
  readStorageFacts,
  requestPersistence,
  type StorageFacts,
} from '../core/storageStatus';
import { formatBytes } from '../core/imageio/validate';
import { useLoupe } from '../state/react';

const storageApi = () => globalThis.navigator?.storage;

export function StorageStatus() {
  const [facts, setFacts] = useState<StorageFacts | null>(null);
  const [asked, setAsked] = useState(false);
  const images = useLoupe((s) => s.projects.reduce((n, p) => n + p.imageCount, 0));
  const projects = useLoupe((s) => s.projects.length);
  const loadProjectSizes = useLoupe((s) => s.loadProjectSizes);
  const refresh = useCallback(async () => {
    void loadProjectSizes();
    setFacts(await readStorageFacts(storageApi()));
  }, [loadProjectSizes]);
  const trashBytes = useLoupe((s) => s.trashBytes);
  const loadTrash = useLoupe((s) => s.loadTrash);
  useEffect(() => {
    // Debounced: an import changes the image count many times a second.
    const timer = setTimeout(() => void refresh(), 500);
    return () => clearTimeout(timer);
  }, [refresh, images, projects]);
  useEffect(() => {
    void loadTrash();
  }, [loadTrash, images, projects]);
  if (!facts) return null;
  const ask = async (): Promise<void> => {
    await requestPersistence(storageApi());
    setAsked(true);
    await refresh();
  };
  return (
    <p role="status" aria-label="Storage" className="storage-status project-meta">
      Storage: {describeUsage(facts)}. {describePersistence(facts.persisted)}
      {trashBytes > 0 && ` The trash holds ${formatBytes(trashBytes)} of it until emptied.`}
      {facts.persisted === false && (
        <>
          {' '}
          <button type="button" className="link-button" onClick={() => void ask()}>
            Request persistent storage
          </button>
          {asked &&
            ' The browser declined; it may grant it once the site is bookmarked or installed.'}
        </>
      )}
    </p>
  );
}
