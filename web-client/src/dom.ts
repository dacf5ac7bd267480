/** Looks up an element the page must have, with its expected type (a clear error instead of a null deref). */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`index.html is missing #${id} (${type.name})`);
  return el;
}
