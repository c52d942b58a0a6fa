// Paying an order. With a Stripe publishable key the Payment Element takes the card; without
// one (development, offline, the browser tests) Stripe.js cannot load, and a button asks the
// server's development-only route to deliver the signed payment_intent.succeeded event Stripe
// would send, through the same webhook handler. PayPal orders go to their approval page.
import { useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';

import { devPaymentURL, stripePublishableKey } from '../config';
import { Errors } from '../format';
import { OrderPaymentCaptureDocument, type PaymentFieldsFragment } from '../gql/graphql';
import { authHeaders } from '../session';

type PaymentInfo = Pick<PaymentFieldsFragment, 'provider' | 'status' | 'clientSecret' | 'approvalUrl'>;

export function Payment({ orderId, payment }: { orderId: string; payment: PaymentInfo }) {
  if (payment.provider === 'paypal' && payment.approvalUrl) {
    return (
      <section aria-labelledby="pay">
        <h2 id="pay">Payment</h2>
        <PayPal orderId={orderId} approvalUrl={payment.approvalUrl} />
      </section>
    );
  }
  return (
    <section aria-labelledby="pay">
      <h2 id="pay">Payment</h2>
      {stripePublishableKey && payment.clientSecret ? <StripeElements clientSecret={payment.clientSecret} /> : <SimulatePayment orderId={orderId} />}
    </section>
  );
}

function SimulatePayment({ orderId }: { orderId: string }) {
  const [state, setState] = useState<'idle' | 'sending' | 'sent'>('idle');
  const [error, setError] = useState<{ message: string } | null>(null);
  const simulate = async () => {
    setState('sending');
    setError(null);
    try {
      const r = await fetch(devPaymentURL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...authHeaders() },
        body: JSON.stringify({ orderId }),
      });
      if (!r.ok) {
        const body = await r.json().catch(() => null);
        throw new Error(body?.errors?.[0]?.message || `the server answered ${r.status}`);
      }
      setState('sent');
    } catch (e) {
      setError({ message: `Could not simulate the payment: ${(e as Error).message}` });
      setState('idle');
    }
  };
  return (
    <>
      <p className="notice">Development mode: no Stripe key is configured, so no card is charged.</p>
      <button type="button" onClick={simulate} disabled={state !== 'idle'}>
        Simulate payment
      </button>
      {state === 'sent' && <p role="status">Payment sent; the status above changes when the shop has taken it.</p>}
      <Errors error={error} />
    </>
  );
}

function StripeElements({ clientSecret }: { clientSecret: string }) {
  const mount = useRef<HTMLDivElement>(null);
  const [confirm, setConfirm] = useState<(() => Promise<void>) | null>(null);
  const [error, setError] = useState<{ message: string } | null>(null);
  useEffect(() => {
    let cancelled = false;
    // The pure entry fetches js.stripe.com only in loadStripe, called only with a key:
    // development never loads it.
    import('@stripe/stripe-js/pure').then(async ({ loadStripe }) => {
      const stripe = await loadStripe(stripePublishableKey);
      if (!stripe || cancelled || !mount.current) return;
      const elements = stripe.elements({ clientSecret });
      elements.create('payment').mount(mount.current);
      setConfirm(() => async () => {
        const r = await stripe.confirmPayment({ elements, redirect: 'if_required', confirmParams: { return_url: window.location.href } });
        if (r.error) setError({ message: r.error.message || 'The payment failed.' });
      });
    });
    return () => {
      cancelled = true;
    };
  }, [clientSecret]);
  return (
    <>
      <div ref={mount} />
      <button type="button" disabled={!confirm} onClick={() => confirm?.()}>
        Pay now
      </button>
      <Errors error={error} />
    </>
  );
}

// PayPal: the buyer approves in a new tab (PayPal's page, or the local stand-in's under
// make run), then this page captures. PayPal's CHECKOUT.ORDER.APPROVED webhook captures too;
// whichever comes first does it, once.
function PayPal({ orderId, approvalUrl }: { orderId: string; approvalUrl: string }) {
  const [r, capture] = useMutation(OrderPaymentCaptureDocument);
  return (
    <>
      <p>
        <a href={approvalUrl} target="_blank" rel="noreferrer">
          Approve the payment at PayPal (opens a new tab)
        </a>
      </p>
      <button type="button" onClick={() => capture({ input: { orderId } })} disabled={r.fetching}>
        I approved it: complete the payment
      </button>
      <Errors errors={r.data?.orderPaymentCapture.userErrors} error={r.error} />
    </>
  );
}
