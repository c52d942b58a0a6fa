package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// The vendors' API: onboarding, the admins' decisions with their history, profiles, who sees
// what, Relay IDs, and what a suspension does to the vendor's products, carts and orders.

const vendorFields = `id name slug description logoUrl status createdAt`

const (
	vendorPayloadFields = `vendor { ` + vendorFields + ` } userErrors { field message code }`
	vendorApplyMutation = `mutation A($input: VendorApplyInput!) { vendorApply(input: $input) { ` + vendorPayloadFields + ` } }`
	vendorCreateMut     = `mutation C($input: VendorCreateInput!) { vendorCreate(input: $input) { ` + vendorPayloadFields + ` } }`
	vendorUpdateMut     = `mutation U($input: VendorUpdateInput!) { vendorUpdate(input: $input) { ` + vendorPayloadFields + ` } }`
	vendorQuery         = `query V($id: ID!) { vendor(id: $id) { ` + vendorFields + ` } }`
	vendorBySlugQuery   = `query V($slug: String!) { vendorBySlug(slug: $slug) { ` + vendorFields + ` } }`
	vendorPrivateQuery  = `query V($id: ID!) { vendor(id: $id) { id contactEmail commissionRateBps history { action status reason actorId at } } }`
	vendorsQuery        = `query L($first: Int, $after: String, $filter: VendorFilter) { vendors(first: $first, after: $after, filter: $filter) {
	  edges { cursor node { id } } nodes { id status } pageInfo { hasNextPage endCursor } totalCount } }`
	vendorNodeQuery = `query N($id: ID!) { node(id: $id) { __typename id ... on Vendor { name status } ... on User { email } } }`
	meVendorQuery   = `query { me { id vendor { id name status } } }`
)

type vendorView struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Slug        string  `json:"slug"`
	Description string  `json:"description"`
	LogoURL     *string `json:"logoUrl"`
	Status      string  `json:"status"`
	CreatedAt   string  `json:"createdAt"`
}

type vendorPayloadView struct {
	Vendor     *vendorView         `json:"vendor"`
	UserErrors []apitest.UserError `json:"userErrors"`
}

func vendorCodes(errs []apitest.UserError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Code
		if len(e.Field) > 0 {
			out[i] += ":" + joinPath(e.Field)
		}
	}
	return out
}

// vendorMutate runs one vendor mutation and returns its payload; userErrors is never null and
// a payload with user errors has no vendor.
func vendorMutate(t *testing.T, c *apitest.Client, query, field string, input map[string]any) vendorPayloadView {
	t.Helper()
	var out map[string]vendorPayloadView
	c.As(t).Do(query, map[string]any{"input": input}).Decode(t, &out)
	p, ok := out[field]
	require.True(t, ok, field)
	require.NotNil(t, p.UserErrors, "userErrors is never null")
	if len(p.UserErrors) > 0 {
		require.Nil(t, p.Vendor, "no vendor beside userErrors")
	} else {
		require.NotNil(t, p.Vendor)
	}
	return p
}

func decide(t *testing.T, c *apitest.Client, verb, id, reason string) vendorPayloadView {
	t.Helper()
	in := map[string]any{"id": id}
	if reason != "" {
		in["reason"] = reason
	}
	return vendorMutate(t, c, `mutation D($input: VendorDecisionInput!) { `+verb+`(input: $input) { `+vendorPayloadFields+` } }`, verb, in)
}

func vendorAs(t *testing.T, c *apitest.Client, id string) *vendorView {
	t.Helper()
	var out struct {
		Vendor *vendorView `json:"vendor"`
	}
	c.As(t).Do(vendorQuery, map[string]any{"id": id}).Decode(t, &out)
	return out.Vendor
}

type vendorEventView struct {
	Action  string  `json:"action"`
	Status  string  `json:"status"`
	Reason  string  `json:"reason"`
	ActorID *string `json:"actorId"`
	At      string  `json:"at"`
}

type vendorPrivateView struct {
	ID                string            `json:"id"`
	ContactEmail      *string           `json:"contactEmail"`
	CommissionRateBps *int              `json:"commissionRateBps"`
	History           []vendorEventView `json:"history"`
}

// vendorPrivate reads the members' and admins' fields, and the codes of the errors they gave.
func vendorPrivate(t *testing.T, c *apitest.Client, id string) (*vendorPrivateView, []string) {
	t.Helper()
	r := c.As(t).Do(vendorPrivateQuery, map[string]any{"id": id})
	var out struct {
		Vendor *vendorPrivateView `json:"vendor"`
	}
	require.NoError(t, json.Unmarshal(r.Data, &out))
	return out.Vendor, errorCodes(r)
}

func historyActions(h []vendorEventView) []string {
	out := make([]string, len(h))
	for i, e := range h {
		out[i] = e.Action + "/" + e.Status + "/" + e.Reason
	}
	return out
}

// registered is a customer registered through the API: its client, id and email.
func registered(t *testing.T, e *apitest.Env) (*apitest.Client, apitest.User) {
	t.Helper()
	c := e.Server.Client(t)
	email := apitest.UniqueEmail()
	s := c.Register(email, apitest.Password)
	require.Empty(t, s.UserErrors)
	c.Bearer = s.Tokens.AccessToken
	return c, *s.User
}

// signInAgain replaces c's token with a new sign-in's, which carries the account's current
// role and vendor.
func signInAgain(t *testing.T, e *apitest.Env, c *apitest.Client, email string) {
	t.Helper()
	s := e.Server.Client(t).Login(email, apitest.Password)
	require.Empty(t, s.UserErrors)
	c.Bearer = s.Tokens.AccessToken
}

func TestVendorOnboarding(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	applicant, u := registered(t, e)
	slug := apitest.UniqueSlug("maple")

	p := vendorMutate(t, applicant, vendorApplyMutation, "vendorApply", map[string]any{
		"name": "Maple & Oak", "slug": slug, "description": "Wooden things.", "contactEmail": "sales@maple.example.com",
	})
	require.Empty(t, p.UserErrors)
	vd := *p.Vendor
	require.Equal(t, "PENDING", vd.Status)
	require.Equal(t, slug, vd.Slug)

	t.Run("a pending vendor is seen by its applicant and admins only", func(t *testing.T) {
		require.NotNil(t, vendorAs(t, applicant, vd.ID))
		require.NotNil(t, vendorAs(t, e.Admin, vd.ID))
		require.Nil(t, vendorAs(t, e.Anon(t), vd.ID))
		other, _ := e.Customer(t)
		require.Nil(t, vendorAs(t, other, vd.ID))
		var bySlug struct {
			V *vendorView `json:"vendorBySlug"`
		}
		e.Anon(t).As(t).Do(vendorBySlugQuery, map[string]any{"slug": slug}).Decode(t, &bySlug)
		require.Nil(t, bySlug.V)
		priv, errs := vendorPrivate(t, applicant, vd.ID)
		require.Empty(t, errs)
		require.Equal(t, []string{"APPLIED/PENDING/"}, historyActions(priv.History))
		require.Equal(t, ptrTo(u.ID), priv.History[0].ActorID)
	})

	t.Run("one pending application per account", func(t *testing.T) {
		p := vendorMutate(t, applicant, vendorApplyMutation, "vendorApply", map[string]any{"name": "Second", "contactEmail": "a@b.co"})
		require.Equal(t, []string{"DUPLICATE"}, vendorCodes(p.UserErrors))
	})

	t.Run("only admins decide", func(t *testing.T) {
		r := applicant.As(t).Do(`mutation { vendorApprove(input: {id: "`+vd.ID+`"}) { vendor { id } } }`, nil)
		requireTopLevelCode(t, r, "FORBIDDEN")
		require.Equal(t, "PENDING", vendorAs(t, e.Admin, vd.ID).Status)
	})

	t.Run("an admin lists the pending applications", func(t *testing.T) {
		var out struct {
			L struct {
				Nodes []struct{ ID, Status string } `json:"nodes"`
			} `json:"vendors"`
		}
		e.Admin.As(t).Do(vendorsQuery, map[string]any{"filter": map[string]any{"status": "PENDING"}}).Decode(t, &out)
		require.Contains(t, out.L.Nodes, struct{ ID, Status string }{vd.ID, "PENDING"})
		e.Anon(t).As(t).Do(vendorsQuery, map[string]any{"filter": map[string]any{"status": "PENDING"}}).Decode(t, &out)
		require.Empty(t, out.L.Nodes, "customers list ACTIVE vendors only")
	})

	t.Run("approval makes the applicant a VENDOR member who sells as the vendor", func(t *testing.T) {
		p := decide(t, e.Admin, "vendorApprove", vd.ID, "Documents checked.")
		require.Empty(t, p.UserErrors)
		require.Equal(t, "ACTIVE", p.Vendor.Status)
		require.Equal(t, []string{"INVALID_TRANSITION:input.id"}, vendorCodes(decide(t, e.Admin, "vendorApprove", vd.ID, "").UserErrors), "approving twice")

		signInAgain(t, e, applicant, u.Email)
		var me struct {
			Me struct {
				ID     string      `json:"id"`
				Vendor *vendorView `json:"vendor"`
			} `json:"me"`
		}
		applicant.As(t).Do(meVendorQuery, nil).Decode(t, &me)
		require.NotNil(t, me.Me.Vendor)
		require.Equal(t, vd.ID, me.Me.Vendor.ID)

		prod := createProduct(t, applicant, productIn("Oak Spoon", 1200))
		require.Equal(t, &refJSON{ID: vd.ID, Name: "Maple & Oak"}, prod.Vendor)
		require.NotNil(t, vendorAs(t, e.Anon(t), vd.ID), "an ACTIVE vendor is public")

		priv, errs := vendorPrivate(t, applicant, vd.ID)
		require.Empty(t, errs)
		require.Equal(t, []string{"APPLIED/PENDING/", "APPROVED/ACTIVE/Documents checked."}, historyActions(priv.History))
		require.Equal(t, ptrTo(apitest.GlobalID("User", e.AdminID)), priv.History[1].ActorID)
	})
}

func TestVendorDecisions(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	p := vendorMutate(t, e.Admin, vendorCreateMut, "vendorCreate", map[string]any{
		"name": "Direct Co", "contactEmail": "direct@example.com", "commissionRateBps": 1250, "reason": "Partner.",
	})
	require.Empty(t, p.UserErrors)
	vd := *p.Vendor
	require.Equal(t, "ACTIVE", vd.Status)

	require.Equal(t, []string{"INVALID_TRANSITION:input.id"}, vendorCodes(decide(t, e.Admin, "vendorReject", vd.ID, "no").UserErrors))
	require.Equal(t, []string{"INVALID_TRANSITION:input.id"}, vendorCodes(decide(t, e.Admin, "vendorReinstate", vd.ID, "").UserErrors))
	require.Equal(t, []string{"INVALID:input.reason"}, vendorCodes(decide(t, e.Admin, "vendorSuspend", vd.ID, "").UserErrors), "a suspension needs a reason")
	require.Equal(t, []string{"NOT_FOUND:input.id"}, vendorCodes(decide(t, e.Admin, "vendorSuspend", apitest.GlobalID("Vendor", 1<<40), "x").UserErrors))
	require.Equal(t, []string{"NOT_FOUND:input.id"}, vendorCodes(decide(t, e.Admin, "vendorSuspend", apitest.GlobalID("User", e.AdminID), "x").UserErrors), "a User ID names no vendor")

	require.Equal(t, "SUSPENDED", decide(t, e.Admin, "vendorSuspend", vd.ID, "Chargebacks.").Vendor.Status)
	require.Equal(t, []string{"INVALID_TRANSITION:input.id"}, vendorCodes(decide(t, e.Admin, "vendorSuspend", vd.ID, "again").UserErrors))
	require.Equal(t, "ACTIVE", decide(t, e.Admin, "vendorReinstate", vd.ID, "Settled.").Vendor.Status)

	priv, errs := vendorPrivate(t, e.Admin, vd.ID)
	require.Empty(t, errs)
	require.Equal(t, []string{"CREATED/ACTIVE/Partner.", "SUSPENDED/SUSPENDED/Chargebacks.", "REINSTATED/ACTIVE/Settled."}, historyActions(priv.History))
	require.Equal(t, 1250, *priv.CommissionRateBps)

	// A rejected application keeps its reason.
	applicant, _ := registered(t, e)
	app := vendorMutate(t, applicant, vendorApplyMutation, "vendorApply", map[string]any{"name": "Shady", "contactEmail": "s@example.com"})
	require.Equal(t, "REJECTED", decide(t, e.Admin, "vendorReject", app.Vendor.ID, "Incomplete documents.").Vendor.Status)
	priv, errs = vendorPrivate(t, applicant, app.Vendor.ID)
	require.Empty(t, errs, "the applicant reads why")
	require.Equal(t, []string{"APPLIED/PENDING/", "REJECTED/REJECTED/Incomplete documents."}, historyActions(priv.History))
	require.Equal(t, []string{"INVALID_TRANSITION:input.id"}, vendorCodes(decide(t, e.Admin, "vendorApprove", app.Vendor.ID, "").UserErrors))
}

func TestVendorSuspensionHidesProducts(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	memberC, vendorID := e.Vendor(t)
	vendorGID := apitest.GlobalID("Vendor", vendorID)
	name := "Suspendable " + uuid.NewString()[:8]
	v := e.Product(t, apitest.ProductOptions{Name: name, VendorID: &vendorID, Variants: []catalog.VariantInput{{Name: "Default", Price: 1500, Stock: 20}}})[0]
	anon := e.Anon(t)

	listed := func(c *apitest.Client, filter map[string]any) ([]string, int) {
		t.Helper()
		conn := listProducts(t, c, listArgs{Filter: filter})
		return conn.names(), conn.TotalCount
	}
	byVendor := map[string]any{"vendorId": vendorGID}
	bySearch := map[string]any{"search": name}
	// Before: everyone sees it (and the anonymous pages are now cached).
	names, total := listed(anon, byVendor)
	require.Equal(t, []string{name}, names)
	require.Equal(t, 1, total)
	names, _ = listed(anon, bySearch)
	require.Contains(t, names, name)
	require.NotNil(t, getProduct(t, anon, v.ProductGID))

	// A customer's cart holds it; another customer's order of it is placed.
	shopper, _ := e.Customer(t)
	mustAdd(t, shopper, v.GID, 2)
	buyer, _ := e.Customer(t)
	placed := buy(t, buyer, v, 1)

	p := decide(t, e.Admin, "vendorSuspend", vendorGID, "Under review.")
	require.Empty(t, p.UserErrors)

	t.Run("gone for customers from lists, counts, searches, product and node", func(t *testing.T) {
		for who, c := range map[string]*apitest.Client{"anonymous": anon, "a customer": shopper} {
			names, total := listed(c, byVendor)
			require.Empty(t, names, who)
			require.Zero(t, total, who)
			names, _ = listed(c, bySearch)
			require.NotContains(t, names, name, who)
			require.Nil(t, getProduct(t, c, v.ProductGID), who)
			var n struct {
				Node *struct{ ID string } `json:"node"`
			}
			c.As(t).Do(`query N($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": v.ProductGID}).Decode(t, &n)
			require.Nil(t, n.Node, who)
			require.Nil(t, vendorAs(t, c, vendorGID), "%s: a suspended vendor is not public", who)
		}
	})

	t.Run("its members and admins still see them", func(t *testing.T) {
		names, _ := listed(memberC, byVendor)
		require.Equal(t, []string{name}, names)
		require.NotNil(t, getProduct(t, e.Admin, v.ProductGID))
		require.NotNil(t, vendorAs(t, memberC, vendorGID))
	})

	t.Run("a cart line is flagged unavailable, adding is refused, checkout refused", func(t *testing.T) {
		l := cartOf(t, shopper).line(v.GID)
		require.NotNil(t, l, "the line is kept")
		require.False(t, l.Available)
		require.Zero(t, l.AvailableQuantity)
		require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(cartAdd(t, shopper, v.GID, 1).UserErrors))
		other, _ := e.Customer(t)
		require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(cartAdd(t, other, v.GID, 1).UserErrors))
		co := checkoutWith(t, shopper, checkoutInput(uuid.NewString(), apitest.Address()))
		require.Len(t, co.UserErrors, 1)
		require.Equal(t, "LINE_UNAVAILABLE", co.UserErrors[0].Code)
	})

	t.Run("its open orders go on: paid, shipped, delivered; its member still sees them", func(t *testing.T) {
		require.Empty(t, setStatus(t, e.Admin, placed.ID, "PAID", "").UserErrors)
		require.Empty(t, setStatus(t, e.Admin, placed.ID, "SHIPPED", "TRACK-1").UserErrors)
		require.Equal(t, "DELIVERED", setStatus(t, e.Admin, placed.ID, "DELIVERED", "").Order.Status)
		require.NotNil(t, orderAs(t, memberC, placed.ID))
	})

	t.Run("reinstatement brings them back", func(t *testing.T) {
		require.Empty(t, decide(t, e.Admin, "vendorReinstate", vendorGID, "").UserErrors)
		names, total := listed(anon, byVendor)
		require.Equal(t, []string{name}, names)
		require.Equal(t, 1, total)
		require.NotNil(t, getProduct(t, anon, v.ProductGID))
		require.True(t, cartOf(t, shopper).line(v.GID).Available)
	})
}

func TestVendorRelayIDs(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	memberC, member := e.RegisterVendor(t, "Relay Goods")
	require.NotEqual(t, member.ID, member.VendorID)
	node := func(c *apitest.Client, id string) map[string]any {
		t.Helper()
		var out struct {
			Node map[string]any `json:"node"`
		}
		c.As(t).Do(vendorNodeQuery, map[string]any{"id": id}).Decode(t, &out)
		return out.Node
	}
	n := node(e.Anon(t), member.VendorID)
	require.Equal(t, "Vendor", n["__typename"])
	require.Equal(t, member.VendorID, n["id"])
	require.Equal(t, "Relay Goods", n["name"])
	n = node(memberC, member.ID)
	require.Equal(t, "User", n["__typename"])
	require.Equal(t, member.ID, n["id"])
	require.Equal(t, member.Email, n["email"])
	// One ID, one type: the member's User ID is not a vendor, the vendor's ID is no user.
	require.Nil(t, vendorAs(t, e.Admin, member.ID))
	var u struct {
		User *struct{ ID string } `json:"user"`
	}
	e.Admin.As(t).Do(`query U($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": member.VendorID}).Decode(t, &u)
	require.Nil(t, u.User)
	require.Nil(t, node(e.Anon(t), apitest.GlobalID("Vendor", 1<<40)))
}

func TestVendorProfileAndPrivacy(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	ownerC, owner := e.RegisterVendor(t, "Owner Goods")
	rivalC, _ := e.RegisterVendor(t, "Rival Goods")
	customer, _ := e.Customer(t)

	t.Run("a member edits its vendor", func(t *testing.T) {
		p := vendorMutate(t, ownerC, vendorUpdateMut, "vendorUpdate", map[string]any{
			"id": owner.VendorID, "name": "Owner Goods Ltd", "description": "Fine goods.", "logoUrl": "https://img.example.com/o.png",
		})
		require.Empty(t, p.UserErrors)
		require.Equal(t, "Owner Goods Ltd", p.Vendor.Name)
		require.Equal(t, ptrTo("https://img.example.com/o.png"), p.Vendor.LogoURL)
		p = vendorMutate(t, ownerC, vendorUpdateMut, "vendorUpdate", map[string]any{"id": owner.VendorID, "commissionRateBps": 0})
		require.Equal(t, []string{"FORBIDDEN:input.commissionRateBps"}, vendorCodes(p.UserErrors), "only admins set the commission")
		p = vendorMutate(t, ownerC, vendorUpdateMut, "vendorUpdate", map[string]any{"id": owner.VendorID, "contactEmail": "nope"})
		require.Equal(t, []string{"INVALID:input.contactEmail"}, vendorCodes(p.UserErrors))
	})

	t.Run("another vendor's member, or a customer, is told NOT_FOUND and changes nothing", func(t *testing.T) {
		for who, c := range map[string]*apitest.Client{"another vendor": rivalC, "a customer": customer} {
			p := vendorMutate(t, c, vendorUpdateMut, "vendorUpdate", map[string]any{"id": owner.VendorID, "name": "Hijacked"})
			require.Equal(t, []string{"NOT_FOUND:input.id"}, vendorCodes(p.UserErrors), who)
			missing := vendorMutate(t, c, vendorUpdateMut, "vendorUpdate", map[string]any{"id": apitest.GlobalID("Vendor", 1<<40), "name": "Hijacked"})
			require.Equal(t, p.UserErrors, missing.UserErrors, "%s: exactly like a missing vendor", who)
		}
		require.Equal(t, "Owner Goods Ltd", vendorAs(t, e.Anon(t), owner.VendorID).Name)
	})

	t.Run("an admin sets the commission", func(t *testing.T) {
		p := vendorMutate(t, e.Admin, vendorUpdateMut, "vendorUpdate", map[string]any{"id": owner.VendorID, "commissionRateBps": 800})
		require.Empty(t, p.UserErrors)
		priv, errs := vendorPrivate(t, ownerC, owner.VendorID)
		require.Empty(t, errs)
		require.Equal(t, 800, *priv.CommissionRateBps)
		require.NotNil(t, priv.ContactEmail)
	})

	t.Run("customers and other vendors see no contact email, commission or history", func(t *testing.T) {
		for who, c := range map[string]*apitest.Client{"anonymous": e.Anon(t), "a customer": customer, "another vendor": rivalC} {
			priv, errs := vendorPrivate(t, c, owner.VendorID)
			require.NotNil(t, priv, who)
			require.Equal(t, owner.VendorID, priv.ID)
			require.Nil(t, priv.ContactEmail, who)
			require.Nil(t, priv.CommissionRateBps, who)
			require.Nil(t, priv.History, who)
			require.Equal(t, []string{"FORBIDDEN", "FORBIDDEN", "FORBIDDEN"}, errs, who)
		}
	})

	t.Run("User.vendor is the membership", func(t *testing.T) {
		var me struct {
			Me struct {
				Vendor *vendorView `json:"vendor"`
			} `json:"me"`
		}
		ownerC.As(t).Do(meVendorQuery, nil).Decode(t, &me)
		require.Equal(t, owner.VendorID, me.Me.Vendor.ID)
		customer.As(t).Do(meVendorQuery, nil).Decode(t, &me)
		require.Nil(t, me.Me.Vendor)
	})
}

// The public response cache serves anonymous catalog answers whole; they show the vendor, so a
// vendor's new name or suspension is never answered from it.
func TestVendorChangesReachCachedCatalogResponses(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	ownerC, owner := e.RegisterVendor(t, "Cached Goods")
	name := "Cached " + uuid.NewString()[:8]
	createProduct(t, ownerC, productIn(name, 900))
	page := `query P($f: ProductFilter) { products(first: 5, filter: $f) { nodes { name vendor { name } } } }`
	vars := map[string]any{"f": map[string]any{"vendorId": owner.VendorID}}

	body, _ := rawPost(t, e.Server.URL, page, vars, nil)
	require.Contains(t, body, `"Cached Goods"`)
	_, state := rawPost(t, e.Server.URL, page, vars, nil)
	require.Equal(t, "HIT", state, "the anonymous answer is cached")

	require.Empty(t, vendorMutate(t, ownerC, vendorUpdateMut, "vendorUpdate", map[string]any{"id": owner.VendorID, "name": "Renamed Goods"}).UserErrors)
	body, state = rawPost(t, e.Server.URL, page, vars, nil)
	require.Equal(t, "MISS", state)
	require.Contains(t, body, `"Renamed Goods"`)

	require.Empty(t, decide(t, e.Admin, "vendorSuspend", owner.VendorID, "Review.").UserErrors)
	body, state = rawPost(t, e.Server.URL, page, vars, nil)
	require.Equal(t, "MISS", state)
	require.NotContains(t, body, name)
}
