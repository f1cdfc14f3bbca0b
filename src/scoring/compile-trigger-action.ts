import type { ModelError } from './model-error.js';
import type { TriggerAction } from './scoring-model.js';

const EXPECTED = 'expected { webhook: ENDPOINT_NAME } or { email: { template: NAME, to: contact | owner | ADDRESS } }';
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * One entry of a trigger's `then`: a webhook endpoint by name, or an email from a template to the contact, to the
 * contact's owner (sales rep), or to a fixed address.
 */
export function compileTriggerAction(spec: unknown, path: Array<string | number>, errors: ModelError[]) {
  const bad = (message: string, at = path): null => {
    errors.push({ path: at, message, expected: EXPECTED });
    return null;
  };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec) || Object.keys(spec).length !== 1)
    return bad('an action is one mapping with one key');
  const [kind, value] = Object.entries(spec)[0]!;
  if (kind === 'webhook') {
    if (typeof value !== 'string' || !NAME.test(value))
      return bad('a webhook action names an endpoint (letters, digits, _ . -)', [...path, kind]);
    return { webhook: value } satisfies TriggerAction;
  }
  if (kind === 'email') {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return bad('an email action is a mapping with template and to', [...path, kind]);
    const { template, to, ...rest } = value as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) return bad(`unknown key "${extra}"`, [...path, kind, extra]);
    if (typeof template !== 'string' || !NAME.test(template))
      return bad('template names an email template (letters, digits, _ . -)', [...path, kind, 'template']);
    const recipient = to ?? 'contact';
    if (typeof recipient !== 'string' || !(recipient === 'contact' || recipient === 'owner' || ADDRESS.test(recipient)))
      return bad(`to ${JSON.stringify(recipient)} is not contact, owner or an email address`, [...path, kind, 'to']);
    return { email: { template, to: recipient } } satisfies TriggerAction;
  }
  return bad(`unknown action "${kind}"`, [...path, kind]);
}
