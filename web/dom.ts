/** Anything that can sit in an element: text (always inserted as text, never parsed as HTML), nodes, nothing. */
export type Child = string | number | Node | null | undefined | false | Child[];
type Attr = string | number | boolean | null | undefined | ((event: Event) => void);

/**
 * Creates an element. Strings become text nodes, so data from events, traits or URLs can never inject markup.
 * `on…` attributes take listeners; `false`/`null` attributes are left out.
 * @example h('a', { href: '#/leads', class: 'nav' }, 'Leads')
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else
      el.appendChild(
        typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child,
      );
  }
}

/** Replaces an element's content. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A table from a header and rows of cells; numeric cells are right-aligned. */
export function table(caption: string, head: string[], rows: Child[][], attrs: Record<string, Attr> = {}): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      attrs,
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            r.map((c) => h('td', typeof c === 'number' ? { class: 'num' } : {}, c)),
          ),
        ),
      ),
    ),
  );
}

/** A message for a part of a page that has nothing to show yet, saying what is missing. */
export function empty(text: string): HTMLElement {
  return h('p', { class: 'empty', role: 'status' }, text);
}
