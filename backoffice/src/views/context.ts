// What every screen receives from the shell (app.ts): the admin connection, the loaded schemas and
// plugin catalog, the page frame and navigation, and the screen's own record of what it shows (the
// entities whose changes redraw it, and how).
import type { Client } from '../client.js';
import type { Child } from '../dom.js';
import type { JsonSchema, PluginInfo } from '../form.js';

/** An admin kind's schema as GET /api/schemas describes it. */
export type KindSchema = { schema: JsonSchema; idField: string; title: string };

/** The screen shown now: a `changed` event on one of `entities` calls `refresh`. */
export type Screen = { entities: string[]; refresh: () => unknown };

export interface ViewContext {
  client: Client;
  schemas: Record<string, KindSchema>;
  catalog: PluginInfo[];
  /** The element the screens draw into. */
  view: HTMLElement;
  screen: Screen;
  /** Draw a page: its title, its actions, its body. */
  page: (title: string, actions: Child, ...body: (Node | string)[]) => void;
  /** Go to `hash`, re-rendering when it is already the current one (to show what was just saved). */
  go: (hash: string) => void;
}

/** A screen: drawn for the hash `#/<name>/<id>/<sub>`. */
export type View = (ctx: ViewContext, id?: string, sub?: string) => Promise<unknown>;
