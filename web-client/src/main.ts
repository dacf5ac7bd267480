/**
 * The emostream web client: publish a webcam, watch streams with live overlays, manage cameras, read the event log.
 * Plain TypeScript and DOM; the protocol types come from the server's src/core (type-only imports).
 */
import { ApiClient, ROLES } from './ApiClient.js';
import { byId } from './dom.js';
import { EventLogPanel } from './EventLogPanel.js';
import { PublishPanel } from './PublishPanel.js';
import { StreamsPanel } from './StreamsPanel.js';
import { WatchPanel } from './WatchPanel.js';

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

const api = new ApiClient(location.origin, storage());

const tokenForm = byId('token-form', HTMLFormElement);
const tokenInput = byId('token', HTMLInputElement);
const tokenStatus = byId('token-status', HTMLElement);
const roleInputs = ROLES.map((role) => [role, byId(`token-${role}`, HTMLInputElement)] as const);
tokenInput.value = api.token;
for (const [role, input] of roleInputs) input.value = api.ownToken(role);

const watch = new WatchPanel(api);
const log = new EventLogPanel(api);
const streams = new StreamsPanel(
  api,
  (stream) => watch.open(stream),
  (gone) => {
    if (watch.streamId && gone.has(watch.streamId)) watch.close();
  },
);
new PublishPanel(api, () => void streams.refresh());

tokenForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  api.token = tokenInput.value.trim();
  for (const [role, input] of roleInputs) api.setToken(role, input.value.trim());
  const any = api.token || roleInputs.some(([role]) => api.ownToken(role));
  tokenStatus.textContent = any ? 'Tokens saved in this browser.' : 'No token (fine on a local server).';
  log.reconnect();
  watch.reconnect();
  void streams.refresh();
});

document.documentElement.dataset.ready = '1';
