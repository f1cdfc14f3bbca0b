/** The one internal shape every wire format (Segment, RudderStack, PostHog, the snippet) is normalised into. */
export type EventType = 'track' | 'page' | 'screen' | 'identify' | 'group' | 'alias';

export interface PageInfo {
  url: string | null;
  path: string | null;
  referrer: string | null;
  title: string | null;
}

export interface CampaignInfo {
  source: string | null;
  medium: string | null;
  name: string | null;
  term: string | null;
  content: string | null;
  /** A channel the sender states (a CRM's lead source); otherwise Kerma groups source and medium into one. */
  channel?: string | null;
}

export interface IngestEvent {
  messageId: string;
  type: EventType;
  /** Track event name, or page/screen name. */
  name: string | null;
  anonymousId: string | null;
  userId: string | null;
  /** alias: the id being linked to userId. */
  previousId: string | null;
  groupId: string | null;
  traits: Record<string, unknown> | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  /** Skew-corrected event time, epoch ms. */
  timestamp: number;
  receivedAt: number;
  page: PageInfo | null;
  /** Campaign the client itself sent (context.campaign / PostHog utm_* properties); null means parse it from the URL. */
  campaign: CampaignInfo | null;
  ip: string | null;
  userAgent: string | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  isBot: boolean;
  library: string | null;
  /** properties, context (without what has its own column) and traits, serialised once for size check and storage. */
  json: { properties: string; context: string; traits: string | null };
  /** PostHog's distinct_id may be a user id already known to Kerma. */
  anonymousMayBeUser?: boolean;
}

/** An event the request carried but Kerma refused, with where it was and why. */
export interface RejectedEvent {
  index: number;
  messageId?: string;
  reason: string;
}
