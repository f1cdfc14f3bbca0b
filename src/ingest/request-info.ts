/** What the HTTP layer knows about a request, for the wire-format normalisers. */
export interface RequestInfo {
  receivedAt: number;
  /** Client address of the HTTP request. */
  ip: string | null;
  /** The request's User-Agent, used only for browser requests (those with an Origin header). */
  browserUserAgent: string | null;
  keepFullIp: boolean;
  maxEventBytes: number;
}
