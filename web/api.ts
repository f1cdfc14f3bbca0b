/** The dashboard's calls to Kerma's API with the workspace secret key, kept in this tab's session storage only. */
const KEY = 'kerma.secret';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (key: string) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** GET (or another method with a JSON body) against the API; a non-2xx answer throws ApiError with the API's message. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${session.key() ?? ''}`, 'content-type': 'application/json' },
    body: init.body === undefined ? null : JSON.stringify(init.body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(response.status, error?.code ?? 'error', error?.message ?? `HTTP ${response.status}`);
  }
  return json as T;
}

/** What the workspace has, so pages ask only for what exists (no 404s to show in the console). */
export interface Status {
  workspace: { id: string; name: string; timeZone: string; currency: string };
  scoringModel: { version: number; name: string } | null;
  predictiveModel: { version: number; kind: string; outcome: string } | null;
  hasSpend: boolean;
}

export const status = (): Promise<Status> => api<Status>('/api/status');
