import type { ContactView as Contact, ContactDetail as Detail } from '../../src/contacts/contact-wire.js';
import type { Factor } from '../../src/predictive/predictive-model.js';
import { ApiError, api, status as workspaceStatus } from '../api.js';
import { type Child, empty, h, replace, table } from '../dom.js';
import { date, pct } from '../format.js';

interface Score {
  total: number;
  fit: number;
  engagement: number;
  grade: string;
  contributions: Array<{
    ruleId: string;
    kind: string;
    points: number;
    decayed: number;
    eventId?: string | null;
    at: string | number;
  }>;
}
interface Prediction {
  probability: number;
  modelVersion: number;
  kind: string;
  outcome: string;
  positive: Factor[];
  negative: Factor[];
  missing: string[];
}

const REASONS = ['not_in_icp', 'no_budget', 'no_authority', 'duplicate', 'bad_data', 'competitor', 'other'];

/** One lead: score explanation, the prediction's factors, touches, stages and events; accept or reject an MQL. */
export async function leadPage(root: HTMLElement, id: string): Promise<void> {
  const path = `/api/contacts/${encodeURIComponent(id)}`;
  const [c, has] = await Promise.all([api<Detail>(`${path}?eventsLimit=100`), workspaceStatus()]);
  const [score, prediction] = await Promise.all([
    has.scoringModel ? api<Score>(`${path}/score`) : null,
    has.predictiveModel ? api<Prediction>(`${path}/prediction?factors=6`) : null,
  ]);
  const status = h('p', { role: 'status', class: 'status' });
  const decide = async (path: string, body: unknown) => {
    try {
      await api(`/api/contacts/${encodeURIComponent(id)}/${path}`, { method: 'POST', body });
      // Show the lead again with its new stage (in place: no page load a later navigation could race).
      await leadPage(root, id);
    } catch (error) {
      status.textContent = error instanceof ApiError ? error.message : String(error);
    }
  };
  const reason = h(
    'select',
    { id: 'reject-reason' },
    REASONS.map((r) => h('option', { value: r }, r.replace(/_/g, ' '))),
  );
  const actions =
    c.stage === 'mql'
      ? h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', onclick: () => decide('accept', {}) }, 'Accept (to SQL)'),
          h('label', { for: 'reject-reason' }, ' Reason '),
          reason,
          h(
            'button',
            { type: 'button', class: 'secondary', onclick: () => decide('reject', { reason: reason.value }) },
            'Reject',
          ),
          status,
        )
      : h('p', { class: 'help' }, `Sales accept or reject a lead at stage MQL; this one is at ${c.stage}.`);

  const explanation: Child = score
    ? [
        h(
          'p',
          {},
          `${score.total.toFixed(1)} points = fit ${score.fit.toFixed(1)} + engagement ${score.engagement.toFixed(1)}; grade ${score.grade}.`,
        ),
        table(
          'Every contribution, oldest first (engagement decays)',
          ['When', 'Rule', 'Kind', 'Points', 'Worth now'],
          [...score.contributions]
            .sort((a, b) => Date.parse(String(a.at)) - Date.parse(String(b.at)) || Number(a.at) - Number(b.at))
            .map((x) => [date(x.at), x.ruleId, x.kind, x.points, Number(x.decayed.toFixed(2))]),
          { id: 'score-explanation' },
        ),
      ]
    : empty('No scoring model is active: apply one with `kerma model apply FILE`.');

  const factorList = (factors: Factor[], sign: string) =>
    factors.length
      ? h(
          'ul',
          { class: 'factors' },
          factors.map((f) =>
            h(
              'li',
              {},
              h('span', {
                class: `bar ${sign}`,
                style: `width:${Math.min(100, Math.abs(f.contribution) * 40).toFixed(0)}px`,
              }),
              ` ${f.column} = ${f.value === null || f.value === undefined ? '(missing)' : String(f.value)} (${f.contribution > 0 ? '+' : ''}${f.contribution.toFixed(2)})`,
            ),
          ),
        )
      : empty('none');
  const predicted: Child = prediction
    ? [
        h(
          'p',
          {},
          `${pct(prediction.probability)} chance of ${prediction.outcome} (predictive model ${prediction.modelVersion}, ${prediction.kind}).`,
        ),
        h(
          'div',
          { class: 'two', id: 'prediction-factors' },
          h('div', {}, h('h3', {}, 'Raises it'), factorList(prediction.positive, 'pos')),
          h('div', {}, h('h3', {}, 'Lowers it'), factorList(prediction.negative, 'neg')),
        ),
      ]
    : empty('No predictive model is active: train one with `kerma train --outcome won`.');

  const touch = (label: string, t: Contact['firstTouch']) =>
    h(
      'li',
      {},
      `${label}: `,
      t
        ? `${t.channel} · ${t.source ?? '(direct)'} / ${t.medium ?? '—'} · ${t.campaign ?? 'no campaign'} · landed on ${t.landingPage ?? '—'} (${date(t.at)})`
        : 'none',
    );

  replace(
    root,
    h('p', {}, h('a', { href: '#/leads' }, '← Leads')),
    h('h1', {}, c.email ?? c.userId ?? c.id),
    h(
      'div',
      { class: 'cards' },
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Score'),
        h('p', { class: 'value' }, c.score.toFixed(0)),
        h('p', {}, `grade ${c.grade ?? '—'}`),
      ),
      h('section', { class: 'card' }, h('h2', {}, 'Probability'), h('p', { class: 'value' }, pct(c.probability))),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Stage'),
        h('p', { class: 'value' }, c.stage),
        h('p', {}, c.owner ? `owner ${c.owner}` : 'no owner'),
      ),
    ),
    actions,
    h('section', {}, h('h2', {}, 'Why this score'), explanation),
    h('section', {}, h('h2', {}, 'What the model sees'), predicted),
    h(
      'section',
      {},
      h('h2', {}, 'Touches'),
      h('ul', {}, touch('First touch', c.firstTouch), touch('Last touch', c.lastTouch)),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Stages'),
      c.stages.length
        ? table(
            'Stage history',
            ['When', 'From', 'To', 'Source', 'Reason'],
            c.stages.map((s) => [date(s.at), s.from ?? '—', s.to, s.source, s.reason ?? '']),
          )
        : empty('No stage change yet.'),
    ),
    h('section', {}, h('h2', {}, 'Traits'), h('pre', { class: 'json' }, JSON.stringify(c.traits, null, 2))),
    h(
      'section',
      {},
      h('h2', {}, 'Events'),
      c.events.length
        ? table(
            'Newest first',
            ['When', 'Type', 'Name', 'Path', 'Properties'],
            c.events.map((e) => [
              date(e.timestamp),
              e.type,
              e.name ?? '',
              e.path ?? '',
              h('code', {}, JSON.stringify(e.properties)),
            ]),
            { id: 'events-table' },
          )
        : empty('No events.'),
    ),
  );
}
