import { ApiError, api } from '../api.js';
import { empty, h, replace, table } from '../dom.js';
import { date } from '../format.js';

interface Keys {
  workspace: { id: string; name: string; timeZone: string; currency: string };
  keys: Array<{ kind: string; prefix: string; createdAt: number }>;
}
interface Webhook {
  name: string;
  url: string;
  enabled: boolean;
}

/** Settings: the workspace, its keys (a new write key on demand), webhooks, and the tracker snippet to copy. */
export async function settingsPage(root: HTMLElement): Promise<void> {
  const [keys, hooks] = await Promise.all([api<Keys>('/api/keys'), api<{ webhooks: Webhook[] }>('/api/webhooks')]);
  const snippet = h('textarea', { id: 'snippet', rows: 3, readonly: true, 'aria-label': 'Tracker snippet' });
  const setSnippet = (writeKey: string) => {
    snippet.value = `<script async src="${location.origin}/kerma.js" data-write-key="${writeKey}"></script>`;
  };
  setSnippet('YOUR_WRITE_KEY');
  const status = h('p', { role: 'status', class: 'status' });
  const newKey = async () => {
    try {
      const r = await api<{ key: string }>('/api/keys', { method: 'POST', body: { kind: 'write' } });
      setSnippet(r.key);
      replace(status, 'A new write key is in the snippet; it is shown only once (Kerma keeps its hash).');
    } catch (error) {
      replace(status, error instanceof ApiError ? error.message : String(error));
    }
  };
  root.append(
    h('h1', {}, 'Settings'),
    h(
      'p',
      {},
      `Workspace "${keys.workspace.name}" (${keys.workspace.id}), time zone ${keys.workspace.timeZone}, currency ${keys.workspace.currency}.`,
    ),
    h('h2', {}, 'Keys'),
    table(
      'Keys are stored hashed; only their first characters can be shown',
      ['Kind', 'Starts with', 'Created'],
      keys.keys.map((k) => [k.kind, `${k.prefix}…`, date(k.createdAt)]),
    ),
    h('h2', {}, 'Tracker'),
    h(
      'p',
      {},
      'Put this on every page of your site (a write key can only send events, so it is safe in a browser). Add data-cookieless="true" to store nothing in the browser, data-consent="required" to send nothing before kerma.consent(true), data-respect-dnt="true" to honour Do-Not-Track.',
    ),
    snippet,
    h(
      'p',
      {},
      h('button', { type: 'button', id: 'new-write-key', onclick: newKey }, 'Create a write key for the snippet'),
      status,
    ),
    h('h2', {}, 'Webhooks'),
    hooks.webhooks.length
      ? table(
          'Signed with Standard Webhooks',
          ['Name', 'URL', 'Enabled'],
          hooks.webhooks.map((w) => [w.name, w.url, w.enabled ? 'yes' : 'no']),
        )
      : empty('No webhook yet: `kerma webhooks add NAME URL`.'),
  );
}
