/**
 * Projects slice: the project list with counts, and create / rename / duplicate / delete (to the
 * trash).
 */
import * as projects from '../core/storage/projects';
import * as trashRepo from '../core/storage/trash';
import type { ProjectSummary } from '../core/storage/projects';
import type { ProjectKind } from '../core/storage/schema';
import type { SliceCreator } from './store';
import { announce } from './tabSync';

export interface ProjectsSlice {
  projects: ProjectSummary[];
  projectsLoaded: boolean;
  loadProjects(): Promise<void>;
  createProject(name?: string, kind?: ProjectKind): Promise<string>;
  renameProject(id: string, name: string): Promise<void>;
  duplicateProject(id: string): Promise<string>;
  deleteProject(id: string): Promise<void>;
}

export const createProjectsSlice: SliceCreator<ProjectsSlice> = (set, get, services) => ({
  projects: [],
  projectsLoaded: false,
  async loadProjects() {
    const list = await projects.listProjects(await services.db());
    set({ projects: list, projectsLoaded: true });
  },
  async createProject(name = 'Untitled project', kind = 'single-label') {
    const created = await projects.createProject(await services.db(), name, kind);
    announce(services, created.id, 'project');
    await get().loadProjects();
    return created.id;
  },
  async renameProject(id, name) {
    const updated = await projects.updateProject(await services.db(), id, { name });
    announce(services, id, 'project');
    if (get().project?.id === id) set({ project: updated });
    await get().loadProjects();
  },
  async duplicateProject(id) {
    const copy = await projects.duplicateProject(await services.db(), id);
    announce(services, copy.id, 'project');
    await get().loadProjects();
    return copy.id;
  },
  async deleteProject(id) {
    if (get().project?.id === id) get().closeProject();
    // To the project list's trash: `emptyTrash('projects')` is what deletes it for good.
    await trashRepo.trashProject(await services.db(), id);
    announce(services, id, 'project');
    await get().loadProjects();
    await get().loadTrash();
  },
});
