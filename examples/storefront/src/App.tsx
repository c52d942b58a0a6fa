import { useEffect, useMemo, type ReactNode } from 'react';
import { Provider, useMutation } from 'urql';

import { makeClient } from './client';
import { SignOutDocument } from './gql/graphql';
import { ResetPasswordPage, VerifyEmailPage } from './pages/Account';
import { CatalogPage } from './pages/Catalog';
import { CartPage, useCart } from './pages/Cart';
import { CheckoutPage } from './pages/Checkout';
import { OrderPage } from './pages/Order';
import { OrdersPage } from './pages/Orders';
import { ProductPage } from './pages/Product';
import { SignInPage } from './pages/SignIn';
import { Link, match, navigate, useLocation } from './router';
import { useTokenRefresh } from './refresh';
import { session, useSession } from './session';
import { AnalyticsPage } from './vendor/Analytics';
import { FulfilmentPage } from './vendor/Fulfilment';
import { VendorProductsPage } from './vendor/Products';

export function App() {
  const { accessToken } = useSession();
  const { client, ws } = useMemo(() => makeClient(accessToken), [accessToken]);
  useEffect(() => () => void ws.dispose(), [ws]);
  return (
    <Provider value={client}>
      <Layout>
        <Routes />
      </Layout>
    </Provider>
  );
}

function Routes() {
  const { path } = useLocation();
  const { user } = useSession();
  let m: Record<string, string> | null;
  if (path === '/') return <CatalogPage />;
  if ((m = match('/products/:slug', path))) return <ProductPage slug={m.slug} />;
  if (path === '/cart') return <CartPage />;
  if (path === '/signin') return <SignInPage />;
  if (path === '/account/verify-email') return <VerifyEmailPage />;
  if (path === '/account/reset-password') return <ResetPasswordPage />;
  if (!user) return <SignInRequired />;
  if (path === '/checkout') return <CheckoutPage />;
  if (path === '/orders') return <OrdersPage />;
  if ((m = match('/orders/:id', path))) return <OrderPage id={m.id} />;
  if (path === '/vendor') return <VendorProductsPage />;
  if (path === '/vendor/orders') return <FulfilmentPage />;
  if (path === '/vendor/analytics') return <AnalyticsPage />;
  return (
    <>
      <h1>Not found</h1>
      <p>
        <Link href="/">Back to the catalog</Link>
      </p>
    </>
  );
}

function SignInRequired() {
  const { path, query } = useLocation();
  const next = path + (query.toString() ? `?${query}` : '');
  return (
    <>
      <h1>Sign in required</h1>
      <p>
        <Link href={`/signin?next=${encodeURIComponent(next)}`}>Sign in</Link> to see this page.
      </p>
    </>
  );
}

function Layout({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const cart = useCart();
  const [, logout] = useMutation(SignOutDocument);
  useTokenRefresh();
  const isVendor = user?.role === 'VENDOR' || user?.role === 'ADMIN';
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <nav aria-label="Main">
          <Link href="/" className="brand">
            shopgraph
          </Link>
          <Link href="/">Catalog</Link>
          <Link href="/cart">
            Cart <span data-testid="cart-count">({cart?.totalQuantity ?? 0})</span>
          </Link>
          {user && <Link href="/orders">Orders</Link>}
          {isVendor && (
            <>
              <Link href="/vendor">Products &amp; stock</Link>
              <Link href="/vendor/orders">Orders to fulfil</Link>
              <Link href="/vendor/analytics">Sales</Link>
            </>
          )}
          <span className="spacer" />
          {user ? (
            <>
              <span data-testid="signed-in-as">{user.email}</span>
              <button
                type="button"
                onClick={async () => {
                  await logout({});
                  session.signOut();
                  navigate('/');
                }}
              >
                Sign out
              </button>
            </>
          ) : (
            <Link href="/signin">Sign in</Link>
          )}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer>
        <p>A reference storefront on the shopgraph GraphQL API.</p>
      </footer>
    </>
  );
}
