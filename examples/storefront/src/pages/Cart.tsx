// The cart: a guest's under its cart token, or the signed-in customer's (the guest's cart
// merges into it on sign-in: SignInPage).
import { useEffect } from 'react';
import { useMutation, useQuery } from 'urql';

import { CartDocument, CartItemRemoveDocument, CartItemUpdateDocument, type CartFieldsFragment } from '../gql/graphql';
import { Errors, money } from '../format';
import { Link, navigate } from '../router';
import { session, useSession } from '../session';

/** The viewer's cart, keeping the cart token the API issues to a guest. */
export function useCart(): CartFieldsFragment | undefined {
  const [{ data }] = useQuery({ query: CartDocument, requestPolicy: 'cache-and-network' });
  const cart = data?.cart;
  useEffect(() => {
    if (cart?.token) session.setCartToken(cart.token);
  }, [cart]);
  return cart;
}

export function CartPage() {
  const cart = useCart();
  const { user } = useSession();
  const [updated, update] = useMutation(CartItemUpdateDocument);
  const [removed, remove] = useMutation(CartItemRemoveDocument);
  if (!cart) return <p role="status">Loading…</p>;
  return (
    <>
      <h1>Your cart</h1>
      <Errors errors={[...(updated.data?.cartItemUpdate.userErrors || []), ...(removed.data?.cartItemRemove.userErrors || [])]} />
      {cart.lines.length === 0 ? (
        <p>
          Your cart is empty. <Link href="/">Browse the catalog</Link>
        </p>
      ) : (
        <>
          <table>
            <caption className="muted">{cart.totalQuantity} items</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Price</th>
                <th scope="col">Quantity</th>
                <th scope="col">Total</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {cart.lines.map((l) => (
                <tr key={l.variant.id} data-testid="cart-line">
                  <td>
                    {l.variant.product.name} — {l.variant.name}
                    {!l.available && <p className="error">Only {l.availableQuantity} available</p>}
                  </td>
                  <td>{money(l.unitPrice)}</td>
                  <td>
                    <label>
                      <span className="sr-only">Quantity of {l.variant.product.name}</span>
                      <input
                        type="number"
                        min={0}
                        max={1000}
                        defaultValue={l.quantity}
                        onBlur={(e) => {
                          const q = Number(e.target.value);
                          if (q !== l.quantity) update({ input: { variantId: l.variant.id, quantity: q } });
                        }}
                      />
                    </label>
                  </td>
                  <td>{money(l.lineTotal)}</td>
                  <td>
                    <button type="button" className="secondary" onClick={() => remove({ input: { variantId: l.variant.id } })}>
                      Remove <span className="sr-only">{l.variant.product.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            Subtotal: <strong data-testid="cart-subtotal">{money(cart.subtotal)}</strong>
          </p>
          <button type="button" onClick={() => navigate(user ? '/checkout' : '/signin?next=/checkout')}>
            {user ? 'Check out' : 'Sign in to check out'}
          </button>
        </>
      )}
    </>
  );
}
