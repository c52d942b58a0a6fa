// The browser's session: the access token (sent as a Bearer header, so the API may live on
// another origin) and a guest's cart token (X-Cart-Token), kept in localStorage.
import { useSyncExternalStore } from 'react';

export type SessionUser = { id: string; email: string; name: string; role: string };

export type Session = {
  accessToken: string | null;
  /** When the access token expires (RFC 3339), and the single-use token that renews it. */
  expiresAt: string | null;
  refreshToken: string | null;
  user: SessionUser | null;
  cartToken: string | null;
};

export type Tokens = { accessToken: string; refreshToken: string; accessTokenExpiresAt: string };

const empty: Session = { accessToken: null, expiresAt: null, refreshToken: null, user: null, cartToken: null };

const KEY = 'shopgraph.session';

function load(): Session {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (s && typeof s === 'object') return { ...empty, ...s };
  } catch {
    // A corrupt entry is a signed-out session.
  }
  return empty;
}

let current = load();
const listeners = new Set<() => void>();

function set(next: Partial<Session>) {
  current = { ...current, ...next };
  localStorage.setItem(KEY, JSON.stringify(current));
  listeners.forEach((l) => l());
}

export const session = {
  get: () => current,
  subscribe(l: () => void) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  signIn(tokens: Tokens, user: SessionUser) {
    // The guest's cart token was spent by the request that merged its cart (SignInPage).
    set({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.accessTokenExpiresAt, user, cartToken: null });
  },
  refreshed(tokens: Tokens, user: SessionUser) {
    set({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.accessTokenExpiresAt, user });
  },
  signOut() {
    set(empty);
  },
  setCartToken(cartToken: string | null) {
    if (cartToken !== current.cartToken) set({ cartToken });
  },
};

export function useSession(): Session {
  return useSyncExternalStore(session.subscribe, session.get);
}

/** The headers of an API request in this session. */
export function authHeaders(): Record<string, string> {
  const h: Record<string, string> = {};
  if (current.accessToken) h.Authorization = `Bearer ${current.accessToken}`;
  if (current.cartToken) h['X-Cart-Token'] = current.cartToken;
  return h;
}
