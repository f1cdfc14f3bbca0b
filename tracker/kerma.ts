// Kerma's first-party browser snippet: page views (single-page apps too), form capture, track / identify, sent with the
// analytics.js batch protocol as text/plain to /v1/b (no CORS preflight). No dependencies; built to under 3 kB gzipped.
//
// <script async src="https://kerma.example.com/kerma.js" data-write-key="wk_…"></script>
// Options (data-*): host (default: where the script came from), cookieless="true" (no storage; the server derives a
// daily-salted visitor hash), consent="required" (nothing is sent or stored until kerma.consent(true)),
// respect-dnt="true" (Do-Not-Track or Global Privacy Control turns tracking off), forms="false" (no form capture).

interface Message {
  type: 'page' | 'track' | 'identify';
  messageId: string;
  timestamp: string;
  anonymousId?: string;
  userId?: string;
  event?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context: Record<string, unknown>;
}

type Traits = Record<string, unknown>;

interface KermaApi {
  page(properties?: Traits): void;
  track(event: string, properties?: Traits): void;
  identify(userId: string | null, traits?: Traits): void;
  consent(granted: boolean): void;
  reset(): void;
}

(() => {
  const w = window as unknown as { kerma?: KermaApi; doNotTrack?: string };
  if (w.kerma) return;
  const script = document.currentScript as HTMLScriptElement | null;
  const data = script?.dataset ?? {};
  const writeKey = data['writeKey'] ?? '';
  const host = (data['host'] ?? (script ? new URL(script.src).origin : '')).replace(/\/+$/, '');
  const cookieless = data['cookieless'] === 'true';
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  const dnt =
    data['respectDnt'] === 'true' &&
    (nav.doNotTrack === '1' || w.doNotTrack === '1' || nav.globalPrivacyControl === true);
  const store = (() => {
    try {
      return window.localStorage;
    } catch {
      return null;
    }
  })();
  const get = (k: string) => store?.getItem(`kerma_${k}`) ?? null;
  const set = (k: string, v: string | null) => {
    try {
      if (v === null) store?.removeItem(`kerma_${k}`);
      else store?.setItem(`kerma_${k}`, v);
    } catch {
      // Storage full or blocked: the id lives for this page only.
    }
  };
  const uuid = () =>
    crypto.randomUUID?.() ??
    '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
      (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (+c / 4)))).toString(16),
    );
  let consent: boolean | null =
    data['consent'] === 'required' ? (get('consent') === null ? null : get('consent') === '1') : true;
  // Storage is touched only when it may be: not cookieless, not before consent.
  const mayStore = () => !cookieless && consent === true;
  let anonymousId: string | null = null;
  let userId: string | null = null;
  const ids = () => {
    if (mayStore()) {
      anonymousId = anonymousId ?? get('aid') ?? uuid();
      set('aid', anonymousId);
      userId = userId ?? get('uid');
    }
  };
  let held: Message[] = [];
  let queue: Message[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const send = (beacon: boolean) => {
    clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const body = JSON.stringify({ batch: queue, writeKey, sentAt: new Date().toISOString() });
    queue = [];
    const url = `${host}/v1/b`;
    if (beacon && navigator.sendBeacon?.(url, new Blob([body], { type: 'text/plain' }))) return;
    fetch(url, {
      method: 'POST',
      body,
      keepalive: true,
      credentials: 'omit',
      headers: { 'Content-Type': 'text/plain' },
    }).catch(() => {});
  };

  const enqueue = (m: Message, now = false) => {
    if (dnt || consent === false) return;
    if (consent === null) {
      held.push(m);
      return;
    }
    ids();
    if (cookieless) m.context['kerma'] = { mode: 'cookieless' };
    else if (anonymousId) m.anonymousId = anonymousId;
    if (userId) m.userId = userId;
    queue.push(m);
    if (now || queue.length >= 20) send(now);
    else timer ??= setTimeout(() => send(false), 500);
  };

  let lastUrl = '';
  const message = (type: Message['type'], fields: Partial<Message>, referrer?: string): Message => ({
    type,
    messageId: uuid(),
    timestamp: new Date().toISOString(),
    context: {
      page: {
        url: location.href,
        path: location.pathname,
        search: location.search,
        title: document.title,
        referrer: referrer ?? document.referrer,
      },
      library: { name: 'kerma.js', version: '1' },
      locale: navigator.language,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      userAgent: navigator.userAgent,
    },
    ...fields,
  });

  const page = (properties: Traits = {}) => {
    const referrer = lastUrl || document.referrer;
    lastUrl = location.href;
    enqueue(
      message(
        'page',
        {
          properties: {
            url: location.href,
            path: location.pathname,
            search: location.search,
            title: document.title,
            referrer,
            ...properties,
          },
        },
        referrer,
      ),
    );
  };

  const api: KermaApi = {
    page,
    track: (event, properties = {}) => enqueue(message('track', { event, properties })),
    identify(id, traits = {}) {
      if (id) {
        userId = id;
        if (mayStore()) set('uid', id);
      }
      enqueue(message('identify', { traits }), true);
    },
    consent(granted) {
      consent = granted;
      if (data['consent'] === 'required' && !cookieless) set('consent', granted ? '1' : null);
      if (!granted) {
        set('aid', null);
        set('uid', null);
      }
      const waiting = held;
      held = [];
      if (granted) for (const m of waiting) enqueue(m);
    },
    reset() {
      anonymousId = userId = null;
      set('aid', null);
      set('uid', null);
    },
  };
  w.kerma = api;

  // Single-page apps: a history change is a page view once the URL actually changed.
  const changed = () => {
    if (location.href !== lastUrl) page();
  };
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args);
      changed();
      return result;
    };
  }
  addEventListener('popstate', changed);
  addEventListener('pagehide', () => send(true));
  addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') send(true);
  });

  // Form capture: a submitted form with an email field identifies its sender with the form's fields; passwords,
  // card-like and other secret fields are never read, and data-kerma-ignore opts a form (or field) out.
  const secret = /pass|pwd|card|cc-|cvc|cvv|iban|ssn|secret|token|pin\b/i;
  if (data['forms'] !== 'false')
    addEventListener(
      'submit',
      (e) => {
        const form = e.target;
        if (!(form instanceof HTMLFormElement) || form.closest('[data-kerma-ignore]')) return;
        const traits: Traits = {};
        let email = '';
        for (const el of Array.from(form.elements) as HTMLInputElement[]) {
          const name = el.name || el.id;
          const type = (el.type || '').toLowerCase();
          if (
            !name ||
            el.closest('[data-kerma-ignore]') ||
            ['password', 'file', 'submit', 'button', 'reset'].includes(type)
          )
            continue;
          if (secret.test(name) || secret.test(el.autocomplete || '')) continue;
          if ((type === 'checkbox' || type === 'radio') && !el.checked) continue;
          const value = el.value.trim();
          if (!value || value.replace(/[\s-]/g, '').match(/^\d{13,19}$/)) continue; // card numbers, whatever the field says
          if (!email && (type === 'email' || /e-?mail/i.test(name)) && value.includes('@')) email = value;
          traits[name] = value;
        }
        if (!email) return;
        traits['email'] = email;
        api.identify(null, traits);
        enqueue(
          message('track', { event: 'Form Submitted', properties: { form: form.id || form.name || form.action } }),
          true,
        );
      },
      true,
    );

  page();
})();
