package graph_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/payment"
)

// API tests of saved payment methods (schema/payment_method.graphqls) against stripe-mock,
// through stripeShim (payment_method_helpers_api_test.go), which rewrites only what stateless
// stripe-mock cannot know: attachments, the default, and the outcomes of marked cards.

const (
	pmSetupMutation  = `mutation { paymentMethodSetupIntentCreate { setupIntent { id clientSecret } userErrors { field message code } } }`
	pmListQuery      = `query { me { id paymentMethods { id brand last4 expMonth expYear isDefault } } }`
	pmDetachMutation = `mutation D($input: PaymentMethodDetachInput!) { paymentMethodDetach(input: $input) {
    paymentMethod { id isDefault } userErrors { field message code } } }`
	pmDefaultMutation = `mutation S($input: PaymentMethodSetDefaultInput!) { paymentMethodSetDefault(input: $input) {
    paymentMethod { id isDefault } userErrors { field message code } } }`
	pmCheckoutMutation = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) {
    order { id status } payment { intentId status clientSecret lastError nextAction { type redirectUrl } }
    userErrors { field message code } } }`
)

type pmView struct {
	ID        string `json:"id"`
	Brand     string `json:"brand"`
	Last4     string `json:"last4"`
	ExpMonth  int    `json:"expMonth"`
	ExpYear   int    `json:"expYear"`
	IsDefault bool   `json:"isDefault"`
}

type pmPayload struct {
	PaymentMethod *pmView             `json:"paymentMethod"`
	UserErrors    []apitest.UserError `json:"userErrors"`
}

type pmCheckoutPayload struct {
	Order *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"order"`
	Payment *struct {
		IntentID     string  `json:"intentId"`
		Status       string  `json:"status"`
		ClientSecret *string `json:"clientSecret"`
		LastError    *string `json:"lastError"`
		NextAction   *struct {
			Type        string  `json:"type"`
			RedirectURL *string `json:"redirectUrl"`
		} `json:"nextAction"`
	} `json:"payment"`
	UserErrors []apitest.UserError `json:"userErrors"`
}

type pmBundle struct {
	env  *apitest.Env
	shim *stripeShim
}

// setupPaymentMethods starts a server whose Stripe gateway talks to stripe-mock through a shim.
func setupPaymentMethods(t *testing.T) pmBundle {
	t.Helper()
	shim := newStripeShim(t)
	env := apitest.NewEnv(t, apitest.EnvOptions{Gateway: payment.NewStripe("sk_test_shopgraph", shim.URL)})
	return pmBundle{env: env, shim: shim}
}

// customerWithCards is a new customer whose Stripe customer (made by a SetupIntent) holds cards.
func (b pmBundle) customerWithCards(t *testing.T, cards ...string) (*apitest.Client, int64) {
	t.Helper()
	c, id := b.env.Customer(t)
	setupIntent(t, c)
	for _, pm := range cards {
		b.shim.attach(t, id, pm)
	}
	return c, id
}

func setupIntent(t *testing.T, c *apitest.Client) (string, string) {
	t.Helper()
	var out struct {
		P struct {
			SetupIntent *struct {
				ID           string `json:"id"`
				ClientSecret string `json:"clientSecret"`
			} `json:"setupIntent"`
			UserErrors []apitest.UserError `json:"userErrors"`
		} `json:"paymentMethodSetupIntentCreate"`
	}
	c.As(t).Do(pmSetupMutation, nil).Decode(t, &out)
	require.Empty(t, out.P.UserErrors)
	require.NotNil(t, out.P.SetupIntent)
	return out.P.SetupIntent.ID, out.P.SetupIntent.ClientSecret
}

func listCards(t *testing.T, c *apitest.Client) []pmView {
	t.Helper()
	var out struct {
		Me *struct {
			PaymentMethods []pmView `json:"paymentMethods"`
		} `json:"me"`
	}
	c.As(t).Do(pmListQuery, nil).Decode(t, &out)
	require.NotNil(t, out.Me)
	require.NotNil(t, out.Me.PaymentMethods, "the viewer's own list is never null")
	return out.Me.PaymentMethods
}

func cardIDs(list []pmView) []string {
	out := []string{}
	for _, m := range list {
		out = append(out, m.ID)
	}
	return out
}

func pmMutate(t *testing.T, c *apitest.Client, mutation, field, id string) pmPayload {
	t.Helper()
	var out map[string]pmPayload
	c.As(t).Do(mutation, map[string]any{"input": map[string]any{"id": id}}).Decode(t, &out)
	p := out[field]
	require.NotNil(t, p.UserErrors, "userErrors is never null")
	return p
}

func pmCheckout(t *testing.T, c *apitest.Client, key, pm string) pmCheckoutPayload {
	t.Helper()
	var out struct {
		P pmCheckoutPayload `json:"checkout"`
	}
	c.As(t).Do(pmCheckoutMutation, map[string]any{"input": map[string]any{
		"idempotencyKey": key, "shippingAddress": apitest.Address(), "paymentMethodId": pm,
	}}).Decode(t, &out)
	require.NotNil(t, out.P.UserErrors, "userErrors is never null")
	return out.P
}

func codesOf(ue []apitest.UserError) []string {
	out := []string{}
	for _, e := range ue {
		out = append(out, e.Code)
	}
	return out
}

func TestPaymentMethodSetupIntent(t *testing.T) {
	t.Parallel()
	b := setupPaymentMethods(t)

	t.Run("the first SetupIntent creates the account's Stripe customer once; later ones reuse it", func(t *testing.T) {
		c, uid := b.env.Customer(t)
		id, secret := setupIntent(t, c)
		require.Regexp(t, `^seti_`, id)
		require.Regexp(t, `^seti_.+_secret_`, secret, "stripe-mock's client secret reaches Stripe Elements")
		setupIntent(t, c)

		creates := b.shim.sent("POST", "/v1/customers")
		var mine []shimRequest
		for _, r := range creates {
			if r.form.Get("metadata[user_id]") == fmt.Sprint(uid) {
				mine = append(mine, r)
			}
		}
		require.Len(t, mine, 1, "one Stripe customer per account")
		require.Equal(t, fmt.Sprintf("shopgraph-user-%d-customer", uid), mine[0].idempotencyKey)
		cus := b.shim.customerOf(uid)
		require.Equal(t, 1, b.env.Count(t, `SELECT count(*) FROM payment_customers WHERE user_id = $1 AND customer_id = $2 AND provider = 'stripe'`, uid, cus))
		for _, r := range b.shim.sent("POST", "/v1/setup_intents") {
			if r.form.Get("customer") == cus {
				require.Equal(t, "card", r.form.Get("payment_method_types[0]"))
			}
		}
	})

	t.Run("concurrent first uses settle on one customer, and every SetupIntent is on it", func(t *testing.T) {
		c, uid := b.env.Customer(t)
		const n = 6
		errs := make(chan error, n)
		for range n {
			go func() {
				var out struct {
					P struct {
						SetupIntent *struct{ ID string } `json:"setupIntent"`
						UserErrors  []apitest.UserError  `json:"userErrors"`
					} `json:"paymentMethodSetupIntentCreate"`
				}
				err := c.TryPayload(pmSetupMutation, nil, "paymentMethodSetupIntentCreate", &out.P)
				if err == nil && (out.P.SetupIntent == nil || len(out.P.UserErrors) > 0) {
					err = fmt.Errorf("no setup intent: %v", out.P.UserErrors)
				}
				errs <- err
			}()
		}
		for range n {
			require.NoError(t, <-errs)
		}
		require.Equal(t, 1, b.env.Count(t, `SELECT count(*) FROM payment_customers WHERE user_id = $1`, uid))
		var cus string
		require.NoError(t, b.env.Server.App.DB.Pool.QueryRow(t.Context(), `SELECT customer_id FROM payment_customers WHERE user_id = $1`, uid).Scan(&cus))
		uses := 0
		for _, r := range b.shim.sent("POST", "/v1/setup_intents") {
			if r.form.Get("customer") == cus {
				uses++
			}
		}
		require.Equal(t, n, uses, "every SetupIntent went to the one recorded customer")
	})

	t.Run("anonymous viewers are refused", func(t *testing.T) {
		res := b.env.Anon(t).Do(pmSetupMutation, nil)
		require.Equal(t, "UNAUTHENTICATED", res.Code())
	})
}

func TestPaymentMethodsListDefaultDetach(t *testing.T) {
	t.Parallel()
	b := setupPaymentMethods(t)

	t.Run("an account that never saved a card lists none, without asking Stripe", func(t *testing.T) {
		c, _ := b.env.Customer(t)
		before := b.shim.count()
		require.Empty(t, listCards(t, c))
		require.Equal(t, before, b.shim.count(), "no Stripe call and no customer created by a read")
	})

	t.Run("the list, the default and detach are Stripe's", func(t *testing.T) {
		c, uid := b.customerWithCards(t, "pm_alice_a", "pm_alice_b")
		cus := b.shim.customerOf(uid)

		list := listCards(t, c)
		require.Equal(t, []string{"pm_alice_a", "pm_alice_b"}, cardIDs(list))
		for _, m := range list {
			require.False(t, m.IsDefault)
			// The card details are stripe-mock's fixture card.
			require.NotEmpty(t, m.Brand)
			require.Len(t, m.Last4, 4)
			require.True(t, m.ExpMonth >= 1 && m.ExpMonth <= 12)
			require.Greater(t, m.ExpYear, 2000)
		}
		lists := b.shim.sent("GET", "/v1/customers/"+cus+"/payment_methods")
		require.NotEmpty(t, lists)
		require.Equal(t, "card", lists[len(lists)-1].form.Get("type"))
		require.Equal(t, "100", lists[len(lists)-1].form.Get("limit"), "one bounded page")

		p := pmMutate(t, c, pmDefaultMutation, "paymentMethodSetDefault", "pm_alice_b")
		require.Empty(t, p.UserErrors)
		require.Equal(t, &pmView{ID: "pm_alice_b", IsDefault: true}, p.PaymentMethod)
		updates := b.shim.sent("POST", "/v1/customers/"+cus)
		require.Len(t, updates, 1)
		require.Equal(t, "pm_alice_b", updates[0].form.Get("invoice_settings[default_payment_method]"))
		list = listCards(t, c)
		require.False(t, list[0].IsDefault)
		require.True(t, list[1].IsDefault, "the default is read back from the Stripe customer")

		p = pmMutate(t, c, pmDetachMutation, "paymentMethodDetach", "pm_alice_a")
		require.Empty(t, p.UserErrors)
		require.Equal(t, "pm_alice_a", p.PaymentMethod.ID)
		require.Len(t, b.shim.sent("POST", "/v1/payment_methods/pm_alice_a/detach"), 1)
		require.Equal(t, []string{"pm_alice_b"}, cardIDs(listCards(t, c)))

		// A detached card is no longer the viewer's.
		p = pmMutate(t, c, pmDefaultMutation, "paymentMethodSetDefault", "pm_alice_a")
		require.Equal(t, []string{"NOT_FOUND"}, codesOf(p.UserErrors))
	})
}

func TestPaymentMethodsAreTheirOwnersAlone(t *testing.T) {
	t.Parallel()
	b := setupPaymentMethods(t)
	alice, aliceID := b.customerWithCards(t, "pm_bola_alice")
	bob, _ := b.customerWithCards(t, "pm_bola_bob")
	carol, _ := b.env.Customer(t) // no Stripe customer at all

	for _, tc := range []struct {
		name     string
		mutation string
		field    string
		path     string
	}{
		{"detach", pmDetachMutation, "paymentMethodDetach", "/v1/payment_methods/pm_bola_alice/detach"},
		{"setDefault", pmDefaultMutation, "paymentMethodSetDefault", "/v1/customers/.+"},
	} {
		t.Run("another customer's card in "+tc.name+" is NOT_FOUND and changes nothing", func(t *testing.T) {
			for _, who := range []*apitest.Client{bob, carol} {
				p := pmMutate(t, who, tc.mutation, tc.field, "pm_bola_alice")
				require.Nil(t, p.PaymentMethod)
				require.Equal(t, []string{"NOT_FOUND"}, codesOf(p.UserErrors))
				require.Equal(t, []string{"input", "id"}, p.UserErrors[0].Field)
			}
			require.Empty(t, b.shim.sent("POST", tc.path), "nothing was sent to change it")
			require.Equal(t, []pmView{{ID: "pm_bola_alice", Brand: listCards(t, alice)[0].Brand, Last4: listCards(t, alice)[0].Last4,
				ExpMonth: listCards(t, alice)[0].ExpMonth, ExpYear: listCards(t, alice)[0].ExpYear}}, listCards(t, alice))
		})
	}

	t.Run("ids that are not Stripe ids never reach Stripe", func(t *testing.T) {
		before := b.shim.count()
		for _, id := range []string{"", "../customers/cus_x", "pm_x?expand[]=customer", "pm x"} {
			p := pmMutate(t, alice, pmDetachMutation, "paymentMethodDetach", id)
			require.Equal(t, []string{"NOT_FOUND"}, codesOf(p.UserErrors), id)
		}
		require.Equal(t, before, b.shim.count())
	})

	t.Run("another customer's card at checkout is NOT_FOUND: no order, no stock taken, no charge", func(t *testing.T) {
		v := b.env.Variant(t, 1500, 5)
		apitest.FillCart(t, bob, apitest.CartLine{VariantGID: v.GID, Quantity: 2})
		intents := len(b.shim.sent("POST", "/v1/payment_intents"))
		bobID := apitest.DBID(t, meID(t, bob))
		p := pmCheckout(t, bob, uuid.NewString(), "pm_bola_alice")
		require.Nil(t, p.Order)
		require.Nil(t, p.Payment)
		require.Equal(t, []string{"NOT_FOUND"}, codesOf(p.UserErrors))
		require.Equal(t, []string{"input", "paymentMethodId"}, p.UserErrors[0].Field)
		require.Equal(t, 0, b.env.OrdersOf(t, bobID))
		require.Equal(t, 5, b.env.Stock(t, v))
		require.Len(t, b.shim.sent("POST", "/v1/payment_intents"), intents)
	})

	t.Run("another user's cards are never readable: not through user(id:), nor node(id:)", func(t *testing.T) {
		aliceGID := apitest.GlobalID("User", aliceID)
		q := `query U($id: ID!) { user(id: $id) { id paymentMethods { id } } }`
		var out struct {
			User *struct {
				ID             string    `json:"id"`
				PaymentMethods *[]pmView `json:"paymentMethods"`
			} `json:"user"`
		}
		b.env.Admin.As(t).Do(q, map[string]any{"id": aliceGID}).Decode(t, &out)
		require.NotNil(t, out.User, "the admin sees the account")
		require.Nil(t, out.User.PaymentMethods, "but not its cards")

		nq := `query N($id: ID!) { node(id: $id) { id ... on User { paymentMethods { id } } } }`
		for _, who := range []*apitest.Client{b.env.Admin, bob, b.env.Anon(t)} {
			var nout struct {
				Node *struct {
					PaymentMethods *[]pmView `json:"paymentMethods"`
				} `json:"node"`
			}
			who.As(t).Do(nq, map[string]any{"id": aliceGID}).Decode(t, &nout)
			if nout.Node != nil {
				require.Nil(t, nout.Node.PaymentMethods)
			}
		}
		// Alice herself, through node, sees them.
		var own struct {
			Node *struct {
				PaymentMethods *[]pmView `json:"paymentMethods"`
			} `json:"node"`
		}
		alice.As(t).Do(nq, map[string]any{"id": aliceGID}).Decode(t, &own)
		require.NotNil(t, own.Node)
		require.NotNil(t, own.Node.PaymentMethods)
		require.Equal(t, []string{"pm_bola_alice"}, cardIDs(*own.Node.PaymentMethods))
	})
}

func meID(t *testing.T, c *apitest.Client) string {
	t.Helper()
	var out struct {
		Me struct {
			ID string `json:"id"`
		} `json:"me"`
	}
	c.As(t).Do(`query { me { id } }`, nil).Decode(t, &out)
	return out.Me.ID
}

func TestCheckoutWithPaymentMethod(t *testing.T) {
	t.Parallel()
	b := setupPaymentMethods(t)

	// checkoutWith fills a new customer's cart and returns it with its card and user id.
	checkoutWith := func(t *testing.T, card string) (*apitest.Client, int64) {
		c, uid := b.customerWithCards(t, card)
		v := b.env.Variant(t, 2500, 10)
		apitest.FillCart(t, c, apitest.CartLine{VariantGID: v.GID, Quantity: 2})
		return c, uid
	}

	t.Run("the intent is created for the customer with the card and confirmed server-side (stripe-mock's own answer)", func(t *testing.T) {
		c, uid := checkoutWith(t, "pm_plain")
		key := uuid.NewString()
		p := pmCheckout(t, c, key, "pm_plain")
		require.Empty(t, p.UserErrors)
		require.NotNil(t, p.Order)
		require.Equal(t, "PENDING", p.Order.Status)
		require.NotNil(t, p.Payment)
		require.Regexp(t, `^pi_`, p.Payment.IntentID)
		require.Equal(t, "REQUIRES_PAYMENT", p.Payment.Status, "stripe-mock's fixture intent needs a payment method")
		require.Nil(t, p.Payment.NextAction)
		require.NotNil(t, p.Payment.ClientSecret)

		orderID := apitest.OrderNumber(t, p.Order.ID)
		creates := b.shim.sent("POST", "/v1/payment_intents")
		last := creates[len(creates)-1]
		require.Equal(t, fmt.Sprintf("shopgraph-order-%d-intent", orderID), last.idempotencyKey)
		require.Equal(t, b.shim.customerOf(uid), last.form.Get("customer"))
		require.Equal(t, "pm_plain", last.form.Get("payment_method"))
		require.Equal(t, "true", last.form.Get("confirm"))
		require.Equal(t, "false", last.form.Get("off_session"))
		require.Equal(t, "5000", last.form.Get("amount"))

		// Same key: the same order and intent, and Stripe is not asked to charge again.
		again := pmCheckout(t, c, key, "pm_plain")
		require.Empty(t, again.UserErrors)
		require.Equal(t, p.Order.ID, again.Order.ID)
		require.Equal(t, p.Payment.IntentID, again.Payment.IntentID)
		require.Len(t, b.shim.sent("POST", "/v1/payment_intents"), len(creates))

		// Same key after the card was removed: still the same order (the request was checked
		// when it was first made), and no new charge.
		require.Empty(t, pmMutate(t, c, pmDetachMutation, "paymentMethodDetach", "pm_plain").UserErrors)
		afterDetach := pmCheckout(t, c, key, "pm_plain")
		require.Empty(t, afterDetach.UserErrors)
		require.Equal(t, p.Order.ID, afterDetach.Order.ID)
		require.Equal(t, p.Payment.IntentID, afterDetach.Payment.IntentID)
		require.Len(t, b.shim.sent("POST", "/v1/payment_intents"), len(creates))

		// Same key, another card: refused.
		b.shim.attach(t, uid, "pm_plain_other")
		other := pmCheckout(t, c, key, "pm_plain_other")
		require.Equal(t, []string{"IDEMPOTENCY_KEY_REUSED"}, codesOf(other.UserErrors))
		require.Equal(t, 1, b.env.OrdersOf(t, uid))
	})

	t.Run("a card that went through leaves the payment PROCESSING until Stripe's event", func(t *testing.T) {
		c, _ := checkoutWith(t, "pm_ok")
		b.shim.setOutcome("pm_ok", "succeeded")
		p := pmCheckout(t, c, uuid.NewString(), "pm_ok")
		require.Empty(t, p.UserErrors)
		require.Equal(t, "PROCESSING", p.Payment.Status)
		require.Nil(t, p.Payment.NextAction)
		require.Equal(t, "PENDING", p.Order.Status, "PAID comes with payment_intent.succeeded, as for every payment")
		o := apitest.Order{ID: apitest.OrderNumber(t, p.Order.ID), GID: p.Order.ID, Total: 5000, Intent: p.Payment.IntentID}
		apitest.SendStripe(t, b.env, o, "payment_intent.succeeded", nil)
		require.Equal(t, "PAID", b.env.OrderStatus(t, o.ID))
	})

	t.Run("when the bank asks for authentication, the payload carries what Stripe.js needs, also on a replay", func(t *testing.T) {
		c, _ := checkoutWith(t, "pm_3ds")
		b.shim.setOutcome("pm_3ds", "requires_action")
		key := uuid.NewString()
		p := pmCheckout(t, c, key, "pm_3ds")
		require.Empty(t, p.UserErrors)
		require.Equal(t, "REQUIRES_PAYMENT", p.Payment.Status)
		require.NotNil(t, p.Payment.NextAction)
		require.Equal(t, "use_stripe_sdk", p.Payment.NextAction.Type)
		require.Nil(t, p.Payment.NextAction.RedirectURL)
		require.NotNil(t, p.Payment.ClientSecret)

		again := pmCheckout(t, c, key, "pm_3ds")
		require.Empty(t, again.UserErrors)
		require.Equal(t, p.Order.ID, again.Order.ID)
		require.Equal(t, p.Payment.IntentID, again.Payment.IntentID)
		require.NotNil(t, again.Payment.NextAction, "re-read from Stripe")
		require.Len(t, b.shim.sent("GET", "/v1/payment_intents/"+p.Payment.IntentID), 1)
	})

	t.Run("a declined card is CARD_DECLINED; the order stands unpaid with its intent, and a replay says so again", func(t *testing.T) {
		c, uid := checkoutWith(t, "pm_declined")
		b.shim.setOutcome("pm_declined", "declined")
		key := uuid.NewString()
		p := pmCheckout(t, c, key, "pm_declined")
		require.Equal(t, []string{"CARD_DECLINED"}, codesOf(p.UserErrors))
		require.Equal(t, "Your card has insufficient funds.", p.UserErrors[0].Message)
		require.NotNil(t, p.Order)
		require.NotNil(t, p.Payment, "the declined intent, payable with another card")
		require.Equal(t, "FAILED", p.Payment.Status)
		require.Equal(t, "Your card has insufficient funds.", *p.Payment.LastError)
		intents := len(b.shim.sent("POST", "/v1/payment_intents"))

		again := pmCheckout(t, c, key, "pm_declined")
		require.Equal(t, []string{"CARD_DECLINED"}, codesOf(again.UserErrors))
		require.Equal(t, p.Order.ID, again.Order.ID)
		require.Equal(t, p.Payment.IntentID, again.Payment.IntentID)
		require.Len(t, b.shim.sent("POST", "/v1/payment_intents"), intents)
		require.Equal(t, 1, b.env.OrdersOf(t, uid))
	})

	t.Run("after an outage, orderPaymentRetry charges the same card under the same key", func(t *testing.T) {
		c, uid := checkoutWith(t, "pm_outage")
		b.shim.failIntents(1) // stripe-go does not retry a 500 to a POST
		p := pmCheckout(t, c, uuid.NewString(), "pm_outage")
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOf(p.UserErrors))
		require.NotNil(t, p.Order)

		var out struct {
			P struct {
				Payment *struct {
					IntentID string `json:"intentId"`
				} `json:"payment"`
				UserErrors []apitest.UserError `json:"userErrors"`
			} `json:"orderPaymentRetry"`
		}
		c.As(t).Do(`mutation R($input: OrderPaymentRetryInput!) { orderPaymentRetry(input: $input) { payment { intentId } userErrors { field message code } } }`,
			map[string]any{"input": map[string]any{"id": p.Order.ID}}).Decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.NotNil(t, out.P.Payment)
		creates := b.shim.sent("POST", "/v1/payment_intents")
		last := creates[len(creates)-1]
		require.Equal(t, fmt.Sprintf("shopgraph-order-%d-intent", apitest.OrderNumber(t, p.Order.ID)), last.idempotencyKey)
		require.Equal(t, "pm_outage", last.form.Get("payment_method"))
		require.Equal(t, b.shim.customerOf(uid), last.form.Get("customer"))
		require.Equal(t, "true", last.form.Get("confirm"))
	})

	t.Run("concurrent requests under one key give one order and one intent", func(t *testing.T) {
		c, uid := checkoutWith(t, "pm_race")
		key := uuid.NewString()
		const n = 4
		type result struct {
			order, intent string
			err           error
		}
		results := make(chan result, n)
		for range n {
			go func() {
				var out pmCheckoutPayload
				err := c.TryPayload(pmCheckoutMutation, map[string]any{"input": map[string]any{
					"idempotencyKey": key, "shippingAddress": apitest.Address(), "paymentMethodId": "pm_race",
				}}, "checkout", &out)
				switch {
				case err != nil:
				case len(out.UserErrors) > 0 || out.Order == nil || out.Payment == nil:
					err = fmt.Errorf("checkout: %+v", out.UserErrors)
				default:
					results <- result{order: out.Order.ID, intent: out.Payment.IntentID}
					return
				}
				results <- result{err: err}
			}()
		}
		orders, intents := map[string]bool{}, map[string]bool{}
		for range n {
			r := <-results
			require.NoError(t, r.err)
			orders[r.order], intents[r.intent] = true, true
		}
		require.Len(t, orders, 1)
		require.Len(t, intents, 1)
		require.Equal(t, 1, b.env.OrdersOf(t, uid))
		require.Equal(t, 1, b.env.Count(t, `SELECT count(*) FROM order_payment_methods m JOIN orders o ON o.id = m.order_id
			WHERE o.user_id = $1 AND m.payment_method_id = 'pm_race'`, uid))
	})

	t.Run("anonymous checkout cannot use a saved card", func(t *testing.T) {
		res := b.env.Anon(t).Do(pmCheckoutMutation, map[string]any{"input": map[string]any{
			"idempotencyKey": uuid.NewString(), "shippingAddress": apitest.Address(), "paymentMethodId": "pm_plain",
		}})
		require.Equal(t, "UNAUTHENTICATED", res.Code())
	})
}
