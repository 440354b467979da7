/**
 * The board's editable project name: a local draft that follows the stored name and is saved on
 * blur (or Enter) when it changed.
 */
import { useState } from 'react';

export function ProjectNameField(props: { name: string; onRename: (name: string) => void }) {
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
