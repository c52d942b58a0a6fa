// Checkout: pick an address from the address book (or add one to it), then place the order
// once per idempotency key, and go to the order to pay it.
import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';

import { AddressBookDocument, AddressCreateDocument, CheckoutDocument, type PaymentProvider } from '../gql/graphql';
import { Errors, money } from '../format';
import { navigate } from '../router';
import { useCart } from './Cart';

function newKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

export function CheckoutPage() {
  const cart = useCart();
  const [{ data, error }, refetch] = useQuery({ query: AddressBookDocument, requestPolicy: 'cache-and-network' });
  const [created, create] = useMutation(AddressCreateDocument);
  const [placed, place] = useMutation(CheckoutDocument);
  const [picked, setPicked] = useState('');
  const [provider, setProvider] = useState<PaymentProvider>('STRIPE');
  // One key per visit to this page: a retried click places the same order, not a second one.
  const key = useMemo(newKey, []);
  const addresses = data?.me?.addresses || [];
  const chosen = picked || data?.me?.defaultShippingAddress?.id || addresses[0]?.id || '';

  const addAddress = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const get = (k: string) => String(f.get(k) || '').trim();
    const r = await create({
      input: {
        name: get('name'),
        line1: get('line1'),
        line2: get('line2') || null,
        city: get('city'),
        region: get('region') || null,
        postalCode: get('postalCode'),
        country: get('country').toUpperCase(),
      },
    });
    const a = r.data?.addressCreate.address;
    if (a) {
      setPicked(a.id);
      refetch({ requestPolicy: 'network-only' });
    }
  };

  const placeOrder = async () => {
    const r = await place({ input: { idempotencyKey: key, shippingAddressId: chosen, paymentProvider: provider } });
    const o = r.data?.checkout.order;
    if (o) navigate(`/orders/${encodeURIComponent(o.id)}`);
  };

  return (
    <>
      <h1>Checkout</h1>
      <Errors error={error} />
      <p>
        {cart?.totalQuantity ?? 0} items, subtotal <strong>{money(cart?.subtotal)}</strong>
      </p>
      <fieldset>
        <legend>Ship to</legend>
        {addresses.length === 0 && <p>Your address book is empty: add an address below.</p>}
        {addresses.map((a) => (
          <label key={a.id}>
            <input type="radio" name="address" value={a.id} checked={chosen === a.id} onChange={() => setPicked(a.id)} /> {a.name}, {a.line1}
            {a.line2 && `, ${a.line2}`}, {a.postalCode} {a.city}, {a.country}
          </label>
        ))}
      </fieldset>
      <details open={addresses.length === 0}>
        <summary>Add an address</summary>
        <form onSubmit={addAddress} aria-label="New address">
          <label>
            Full name
            <input name="name" autoComplete="name" required />
          </label>
          <label>
            Street and number
            <input name="line1" autoComplete="address-line1" required />
          </label>
          <label>
            Apartment, suite (optional)
            <input name="line2" autoComplete="address-line2" />
          </label>
          <div className="row">
            <label>
              Postal code
              <input name="postalCode" autoComplete="postal-code" required />
            </label>
            <label>
              City
              <input name="city" autoComplete="address-level2" required />
            </label>
            <label>
              Region (optional)
              <input name="region" autoComplete="address-level1" />
            </label>
            <label>
              Country code
              <input name="country" autoComplete="country" defaultValue="US" maxLength={2} required />
            </label>
          </div>
          <Errors errors={created.data?.addressCreate.userErrors} error={created.error} />
          <button type="submit" className="secondary" disabled={created.fetching}>
            Save address
          </button>
        </form>
      </details>
      <fieldset>
        <legend>Pay with</legend>
        <label>
          <input type="radio" name="provider" value="STRIPE" checked={provider === 'STRIPE'} onChange={() => setProvider('STRIPE')} /> Card (Stripe)
        </label>
        <label>
          <input type="radio" name="provider" value="PAYPAL" checked={provider === 'PAYPAL'} onChange={() => setProvider('PAYPAL')} /> PayPal
        </label>
      </fieldset>
      <Errors errors={placed.data?.checkout.userErrors} error={placed.error} />
      <p>
        <button type="button" onClick={placeOrder} disabled={!chosen || placed.fetching || !cart?.lines.length}>
          Place order
        </button>
      </p>
    </>
  );
}
