import type { ContactView as Contact } from '../../src/contacts/contact-wire.js';
import { api } from '../api.js';
import { empty, h, replace } from '../dom.js';
import { date, pct } from '../format.js';

const SORTS = [
  ['score', 'Score'],
  ['probability', 'Probability'],
  ['created', 'Newest'],
  ['lastSeen', 'Last seen'],
] as const;
const STAGES = ['', 'contact', 'mql', 'sql', 'meeting', 'won', 'lost'];
const GRADES = ['', ...['A', 'B', 'C', 'D'].flatMap((l) => [1, 2, 3, 4].map((n) => `${l}${n}`))];

/** Leads: the contacts, sorted by score, probability or recency, filtered by stage, grade, channel or email. */
export async function leadsPage(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const state = {
    sort: SORTS.some(([s]) => s === params.get('sort')) ? params.get('sort')! : 'score',
    stage: params.get('stage') ?? '',
    grade: params.get('grade') ?? '',
    channel: params.get('channel') ?? '',
    email: params.get('email') ?? '',
  };
  const go = (changes: Partial<typeof state>) => {
    const next = new URLSearchParams(Object.entries({ ...state, ...changes }).filter(([, v]) => v !== ''));
    location.hash = `#/leads?${next}`;
  };
  const select = (
    id: string,
    label: string,
    value: string,
    options: ReadonlyArray<readonly [string, string]>,
    key: keyof typeof state,
  ) =>
    h(
      'span',
      { class: 'filter' },
      h('label', { for: id }, label),
      h(
        'select',
        { id, onchange: (e) => go({ [key]: (e.target as HTMLSelectElement).value }) },
        options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)),
      ),
    );
  const emailInput = h('input', {
    id: 'lead-email',
    type: 'search',
    value: state.email,
    placeholder: 'name@company.com',
  });
  const channelInput = h('input', {
    id: 'lead-channel',
    type: 'search',
    value: state.channel,
    placeholder: 'Paid Search',
  });
  const list = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  root.append(
    h('h1', {}, 'Leads'),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        onsubmit: (e) => {
          e.preventDefault();
          go({ email: emailInput.value.trim(), channel: channelInput.value.trim() });
        },
      },
      select('lead-sort', 'Sort by ', state.sort, SORTS, 'sort'),
      select(
        'lead-stage',
        'Stage ',
        state.stage,
        STAGES.map((s) => [s, s || 'any'] as const),
        'stage',
      ),
      select(
        'lead-grade',
        'Grade ',
        state.grade,
        GRADES.map((g) => [g, g || 'any'] as const),
        'grade',
      ),
      h('span', { class: 'filter' }, h('label', { for: 'lead-channel' }, 'Channel '), channelInput),
      h('span', { class: 'filter' }, h('label', { for: 'lead-email' }, 'Email '), emailInput),
      h('button', { type: 'submit' }, 'Filter'),
    ),
    list,
  );
  const query = new URLSearchParams({ sort: state.sort, limit: '100' });
  for (const key of ['stage', 'grade', 'channel', 'email'] as const) if (state[key]) query.set(key, state[key]);
  const { contacts } = await api<{ contacts: Contact[] }>(`/api/contacts?${query}`);
  if (contacts.length === 0) {
    replace(
      list,
      empty('No contact matches. Contacts appear when visitors fill a form or a CRM or CSV import adds them.'),
    );
    return;
  }
  const header = (label: string, sort?: string) =>
    h(
      'th',
      { scope: 'col', 'aria-sort': sort === state.sort ? 'descending' : null },
      sort ? h('a', { href: `#/leads?${new URLSearchParams({ ...state, sort })}` }, label) : label,
    );
  replace(
    list,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'leads-table' },
        h(
          'caption',
          {},
          `${contacts.length} contacts, highest ${SORTS.find(([s]) => s === state.sort)?.[1].toLowerCase()} first`,
        ),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            header('Contact'),
            header('Score', 'score'),
            header('Grade'),
            header('Probability', 'probability'),
            header('Stage'),
            header('Channel'),
            header('Created', 'created'),
          ),
        ),
        h(
          'tbody',
          {},
          contacts.map((c) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `#/leads/${encodeURIComponent(c.id)}` }, c.email ?? c.userId ?? c.id)),
              h('td', { class: 'num' }, c.score.toFixed(0)),
              h('td', {}, c.grade ?? '—'),
              h('td', { class: 'num' }, pct(c.probability)),
              h('td', {}, c.stage),
              h('td', {}, c.firstTouch?.channel ?? '—'),
              h('td', {}, date(c.createdAt)),
            ),
          ),
        ),
      ),
    ),
  );
}
