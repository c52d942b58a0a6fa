// The pages the account emails link to (STOREFRONT_URL/account/…): proving an email address,
// and resetting a forgotten password (asking for the link, then using it).
import { useEffect, useRef, type FormEvent } from 'react';
import { useMutation } from 'urql';

import { AccountEmailVerifyDocument, AccountPasswordResetDocument, AccountPasswordResetRequestDocument } from '../gql/graphql';
import { Errors } from '../format';
import { Link, useLocation } from '../router';
import { session } from '../session';

export function VerifyEmailPage() {
  const { query } = useLocation();
  const token = query.get('token') || '';
  const [r, verify] = useMutation(AccountEmailVerifyDocument);
  const sent = useRef(false);
  useEffect(() => {
    // Once: the token works once, and StrictMode runs effects twice in development.
    if (token && !sent.current) {
      sent.current = true;
      verify({ input: { token } });
    }
  }, [token, verify]);
  const user = r.data?.accountEmailVerify.user;
  return (
    <>
      <h1>Email address</h1>
      {!token && <p>This link has no token: open the link of the email again.</p>}
      {r.fetching && <p role="status">Checking the link…</p>}
      {user && <p role="status">Thank you: {user.email} is verified.</p>}
      <Errors errors={r.data?.accountEmailVerify.userErrors} error={r.error} />
    </>
  );
}

export function ResetPasswordPage() {
  const { query } = useLocation();
  const token = query.get('token');
  const [asked, ask] = useMutation(AccountPasswordResetRequestDocument);
  const [reset, doReset] = useMutation(AccountPasswordResetDocument);
  const onAsk = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    ask({ input: { email: String(new FormData(e.currentTarget).get('email')) } });
  };
  const onReset = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const r = await doReset({ input: { token: token || '', newPassword: String(new FormData(e.currentTarget).get('password')) } });
    // Every session of the account ended, this browser's too.
    if (r.data?.accountPasswordReset.user) session.signOut();
  };
  if (!token) {
    const done = asked.data && asked.data.accountPasswordResetRequest.userErrors.length === 0;
    return (
      <>
        <h1>Forgot your password?</h1>
        {done ? (
          <p role="status">If an account has this address, a link to reset its password is on its way.</p>
        ) : (
          <form onSubmit={onAsk} aria-label="Ask for a reset link">
            <label>
              Email
              <input name="email" type="email" autoComplete="email" required />
            </label>
            <Errors errors={asked.data?.accountPasswordResetRequest.userErrors} error={asked.error} />
            <button type="submit" disabled={asked.fetching}>
              Send me a link
            </button>
          </form>
        )}
      </>
    );
  }
  return (
    <>
      <h1>Choose a new password</h1>
      {reset.data?.accountPasswordReset.user ? (
        <p role="status">
          Your password is changed. <Link href="/signin">Sign in</Link> with it.
        </p>
      ) : (
        <form onSubmit={onReset} aria-label="New password">
          <label>
            New password (at least 10 characters)
            <input name="password" type="password" autoComplete="new-password" minLength={10} required />
          </label>
          <Errors errors={reset.data?.accountPasswordReset.userErrors} error={reset.error} />
          <button type="submit" disabled={reset.fetching}>
            Set the password
          </button>
        </form>
      )}
    </>
  );
}
