// Keeps a session alive: the access token lives 15 minutes, so a minute before it expires the
// single-use refresh token is exchanged for new tokens (accountTokenRefresh). A refusal (the
// session was revoked, or the token used elsewhere) signs the browser out.
import { useEffect } from 'react';
import { useClient } from 'urql';

import { RefreshTokensDocument } from './gql/graphql';
import { session, useSession } from './session';

const EARLY_MS = 60_000;

export function useTokenRefresh() {
  const { expiresAt, refreshToken } = useSession();
  const client = useClient();
  useEffect(() => {
    if (!expiresAt || !refreshToken) return;
    const delay = Math.max(0, new Date(expiresAt).getTime() - Date.now() - EARLY_MS);
    const timer = window.setTimeout(async () => {
      const r = await client.mutation(RefreshTokensDocument, { input: { refreshToken } }).toPromise();
      const p = r.data?.accountTokenRefresh;
      if (p?.tokens && p.user) session.refreshed(p.tokens, p.user);
      else if (p || r.error?.graphQLErrors.length) session.signOut();
      // A network error leaves the session as it is: the next load tries again.
    }, delay);
    return () => window.clearTimeout(timer);
  }, [expiresAt, refreshToken, client]);
}
