// Sign-in and registration. Either starts a session; the guest cart merges on the next cart
// request (useCart).
import { type FormEvent } from 'react';
import { useClient, useMutation } from 'urql';

import { SignInDocument, RegisterDocument, CartDocument } from '../gql/graphql';
import { Errors } from '../format';
import { Link, navigate, useLocation } from '../router';
import { session, type SessionUser, type Tokens } from '../session';

export function SignInPage() {
  const { query } = useLocation();
  const next = query.get('next') || '/';
  const [login, doLogin] = useMutation(SignInDocument);
  const [register, doRegister] = useMutation(RegisterDocument);
  const client = useClient();

  const started = async (tokens: Tokens, user: SessionUser) => {
    // One request as the customer with the guest's cart token merges the guest cart, before
    // the session (and so the client) changes; the token is spent then.
    const headers: Record<string, string> = { Authorization: `Bearer ${tokens.accessToken}` };
    const { cartToken } = session.get();
    if (cartToken) headers['X-Cart-Token'] = cartToken;
    await client.query(CartDocument, {}, { requestPolicy: 'network-only', fetchOptions: { headers } }).toPromise();
    session.signIn(tokens, user);
    navigate(next.startsWith('/') ? next : '/');
  };

  const onLogin = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const r = await doLogin({ input: { email: String(f.get('email')), password: String(f.get('password')) } });
    const p = r.data?.accountLogin;
    if (p?.tokens && p.user) await started(p.tokens, p.user);
  };
  const onRegister = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const r = await doRegister({
      input: { email: String(f.get('email')), password: String(f.get('password')), name: String(f.get('name') || '') || null },
    });
    const p = r.data?.accountRegister;
    if (p?.tokens && p.user) await started(p.tokens, p.user);
  };

  return (
    <>
      <h1>Sign in</h1>
      <div className="row" style={{ alignItems: 'flex-start' }}>
        <form onSubmit={onLogin} aria-labelledby="signin-heading" className="card">
          <h2 id="signin-heading">I have an account</h2>
          <label>
            Email
            <input name="email" type="email" autoComplete="email" required />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" required />
          </label>
          <Errors errors={login.data?.accountLogin.userErrors} error={login.error} />
          <button type="submit" disabled={login.fetching}>
            Sign in
          </button>
          <p>
            <Link href="/account/reset-password">Forgot your password?</Link>
          </p>
        </form>
        <form onSubmit={onRegister} aria-labelledby="register-heading" className="card">
          <h2 id="register-heading">I am new here</h2>
          <label>
            Name
            <input name="name" autoComplete="name" />
          </label>
          <label>
            Email
            <input name="email" type="email" autoComplete="email" required />
          </label>
          <label>
            Password (at least 10 characters)
            <input name="password" type="password" autoComplete="new-password" minLength={10} required />
          </label>
          <Errors errors={register.data?.accountRegister.userErrors} error={register.error} />
          <button type="submit" disabled={register.fetching}>
            Create account
          </button>
        </form>
      </div>
    </>
  );
}
