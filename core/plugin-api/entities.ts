/**
 * Entity kinds a plugin owns (schemas, references, write hooks) and its admin endpoints: the
 * pieces of a kind's definition and of list filters. Reads and writes go through the host's
 * entity handles (`host.entities`).
 */
export {
  defineEntityKind,
  DateTime,
  EntityId,
  EntityMeta,
  ROUTES,
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  MAX_PATTERN_LENGTH,
  type EntityKind,
  type EntityReference,
  type StoredEntity,
  type Route,
} from '../config/entities.js';
export type { EntityHooks, WriteContext, ExportOptions } from '../config/entity-service.js';
export type { ChangeEvent } from '../config/store.js';
export { matchesEnabled, matchesTag, TAG_FILTER, ENABLED_FILTER } from '../admin/admin-api.js';
export type { AdminExtension, AdminRoute, AdminCaller } from '../admin/extensions.js';
export { API_TOKEN_SCOPES } from '../admin/api-tokens.js';
