import { ApiError, api, session } from './api.js';
import { h, replace } from './dom.js';
import { funnelPage } from './pages/funnel.js';
import { homePage } from './pages/home.js';
import { leadPage } from './pages/lead.js';
import { leadsPage } from './pages/leads.js';
import { modelPage } from './pages/model.js';
import { settingsPage } from './pages/settings.js';

const PAGES = [
  ['home', 'Home'],
  ['funnel', 'Funnel'],
  ['leads', 'Leads'],
  ['model', 'Model'],
  ['settings', 'Settings'],
] as const;

const app = document.getElementById('app')!;

function signIn(message = ''): void {
  const input = h('input', {
    id: 'secret-key',
    type: 'password',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const error = h('p', { role: 'alert', class: 'error' }, message);
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: async (e) => {
        e.preventDefault();
        session.signIn(input.value.trim());
        try {
          await api('/api/keys');
          route();
        } catch (err) {
          session.signOut();
          error.textContent =
            err instanceof ApiError && err.status === 403
              ? 'That is a write key; sign in with the secret key.'
              : 'That key does not open a workspace.';
        }
      },
    },
    h('h1', {}, 'Kerma'),
    h(
      'p',
      {},
      'Sign in with your workspace secret key (`kerma workspace create` printed it). It stays in this tab only.',
    ),
    h('label', { for: 'secret-key' }, 'Secret key'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  replace(app, h('main', { id: 'main' }, form));
  input.focus();
}

async function route(): Promise<void> {
  if (!session.key()) return signIn();
  const [path, query] = (location.hash.slice(2) || 'home').split('?');
  const parts = (path ?? 'home').split('/');
  const page = parts[0] || 'home';
  const params = new URLSearchParams(query ?? '');
  const main = h('main', { id: 'main', tabindex: '-1' });
  const nav = h(
    'nav',
    { 'aria-label': 'Pages' },
    h('a', { href: '#/home', class: 'brand' }, 'Kerma'),
    PAGES.map(([key, label]) => h('a', { href: `#/${key}`, 'aria-current': key === page ? 'page' : null }, label)),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          session.signOut();
          signIn();
        },
      },
      'Sign out',
    ),
  );
  replace(app, h('a', { href: '#main', class: 'skip' }, 'Skip to content'), h('header', {}, nav), main);
  try {
    if (page === 'home') await homePage(main);
    else if (page === 'funnel') await funnelPage(main, params);
    else if (page === 'leads' && parts[1]) await leadPage(main, decodeURIComponent(parts[1]));
    else if (page === 'leads') await leadsPage(main, params);
    else if (page === 'model') await modelPage(main);
    else if (page === 'settings') await settingsPage(main);
    else replace(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/home' }, 'Go home')));
    document.title = `Kerma · ${PAGES.find(([k]) => k === page)?.[1] ?? 'Lead'}`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401)
      return signIn('Your key no longer opens this workspace; sign in again.');
    replace(
      main,
      h('h1', {}, 'Something went wrong'),
      h('p', { role: 'alert', class: 'error' }, error instanceof Error ? error.message : String(error)),
    );
  }
}

addEventListener('hashchange', () => void route());
void route();
