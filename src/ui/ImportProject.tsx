/** Import project: reads a .loupe archive, asks to rename or replace on a name clash, opens it. */
import { useState } from 'react';
import { useLoupe } from '../state/react';
import { Dialog } from './Dialog';
import { TransferProgress } from './TransferProgress';
import { navigate } from './useHashRoute';

export function ImportProject() {
  const inspect = useLoupe((s) => s.inspectArchive);
  const importArchive = useLoupe((s) => s.importArchive);
  const pending = useLoupe((s) => s.pendingArchive);
  const dismiss = useLoupe((s) => s.dismissArchive);
  const [name, setName] = useState('');
  const importing = useLoupe(
    (s) => s.transfer?.task === 'Reading archive' || s.transfer?.task === 'Importing project',
  );

  const finish = async (options: { name?: string; replaceProjectId?: string }): Promise<void> => {
    const id = await importArchive(options);
    if (id) navigate({ page: 'project', projectId: id });
  };

  return (
    <>
      {importing && <TransferProgress />}
      <label className="button">
        Import project
        <input
          type="file"
          accept=".loupe,.zip,application/zip"
          className="visually-hidden"
          aria-label="Import project"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (!file) return;
            void inspect(file).then((summary) => {
              if (!summary) return;
              if (summary.conflict) setName(`${summary.name} (imported)`);
              else void finish({});
            });
          }}
        />
      </label>
      <Dialog title="Project name already used" open={!!pending?.conflict} onClose={dismiss}>
        {pending?.conflict && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void finish({ name });
            }}
          >
            <p>A project named “{pending.conflict.name}” already exists on this device.</p>
            <label>
              Import as
              <input value={name} onChange={(e) => setName(e.target.value)} maxLength={120} />
            </label>
            <div className="dialog-actions">
              <button type="button" onClick={dismiss}>
                Cancel
              </button>
              <button
                type="button"
                className="danger"
                onClick={() => void finish({ replaceProjectId: pending.conflict?.id })}
              >
                Replace existing
              </button>
              <button type="submit" className="primary">
                Import with new name
              </button>
            </div>
          </form>
        )}
      </Dialog>
    </>
  );
}
