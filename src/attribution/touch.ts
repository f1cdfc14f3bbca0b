/** Where a visit came from: the contract's touch shape. */
export interface Touch {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  term: string | null;
  content: string | null;
  channel: string;
  landingPage: string | null;
  referrer: string | null;
  clickIds: Record<string, string>;
  at: string;
}
