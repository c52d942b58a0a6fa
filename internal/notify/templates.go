package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"

	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/order"
)

// templateFS holds the default templates, built into the binary.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

// TemplateNames are the files of the templates, each of which EMAIL_TEMPLATES_DIR may override:
// per email a subject (plain text, one line), a plain-text part and an HTML part.
var TemplateNames = append([]string{
	"order_placed.subject.tmpl", "order_placed.txt.tmpl", "order_placed.html.tmpl",
	"order_status.subject.tmpl", "order_status.txt.tmpl", "order_status.html.tmpl",
	"vendor_order.subject.tmpl", "vendor_order.txt.tmpl", "vendor_order.html.tmpl",
	"low_stock.subject.tmpl", "low_stock.txt.tmpl", "low_stock.html.tmpl",
	"vendor_application.subject.tmpl", "vendor_application.txt.tmpl", "vendor_application.html.tmpl",
}, accountTemplateNames...)

// Templates are the parsed templates of every email: the embedded defaults, each replaced by
// the file of the same name in an operator's directory when there is one.
type Templates struct {
	text *texttemplate.Template // the subjects and the plain-text parts
	html *htmltemplate.Template
	// Overridden names the files read from the directory.
	Overridden []string
	// origin says where each template came from, for errors.
	origin map[string]string
}

// defaultTemplates are the embedded templates alone.
var defaultTemplates = must(LoadTemplates(""))

func must(t *Templates, err error) *Templates {
	if err != nil {
		panic(err)
	}
	return t
}

// LoadTemplates parses the templates: each of TemplateNames from dir when the file is there,
// else the embedded default; dir "" takes every default. It then renders each with sample data,
// so that a template that would fail when sending (a syntax error, an unknown field, a
// function misused) fails here, at start-up, naming its file. A *.tmpl file in dir that is not
// one of TemplateNames is an error too: a misspelt override would otherwise be ignored.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{text: texttemplate.New("").Option("missingkey=error"), html: htmltemplate.New("").Option("missingkey=error"),
		origin: map[string]string{}}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("EMAIL_TEMPLATES_DIR: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".tmpl") && !slices.Contains(TemplateNames, e.Name()) {
				return nil, fmt.Errorf("EMAIL_TEMPLATES_DIR: %s is not an email template; the templates are %s",
					filepath.Join(dir, e.Name()), strings.Join(TemplateNames, ", "))
			}
		}
	}
	for _, name := range TemplateNames {
		src, err := fs.ReadFile(templateFS, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("embedded email template %s: %w", name, err)
		}
		origin := "the embedded email template " + name
		if dir != "" {
			path := filepath.Join(dir, name)
			b, err := os.ReadFile(path)
			switch {
			case err == nil:
				src, origin = b, "email template "+path+" (EMAIL_TEMPLATES_DIR)"
				t.Overridden = append(t.Overridden, name)
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("EMAIL_TEMPLATES_DIR: %w", err)
			}
		}
		t.origin[name] = origin
		if strings.HasSuffix(name, ".html.tmpl") {
			_, err = t.html.New(name).Parse(string(src))
		} else {
			_, err = t.text.New(name).Parse(string(src))
		}
		if err != nil {
			return nil, fmt.Errorf("%s does not parse: %w", origin, err)
		}
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// validate renders every email with sample data: each status's, a refund's amount known and
// not, an order shipped and not, and the vendors' and admins' notices.
func (t *Templates) validate() error {
	sample := order.Order{ID: 1001, Status: order.Pending, Total: money.Money{Amount: 2250, Currency: "USD"},
		ShippingAddress: order.Address{Name: "Ada Lovelace", Line1: "1 Main St", City: "London", PostalCode: "N1", Country: "GB"}}
	lines := []order.Line{{ProductName: "Widget", VariantName: "Blue", SKU: "W-1", Quantity: 2, UnitPrice: money.Money{Amount: 1000, Currency: "USD"},
		LineTotal: money.Money{Amount: 2000, Currency: "USD"}}}
	if _, err := t.OrderPlacedMessage("ada@example.com", sample, lines); err != nil {
		return err
	}
	if err := t.validateNotices(sample, lines); err != nil {
		return err
	}
	if err := t.validateAccountEmails(); err != nil {
		return err
	}
	tracking := "1Z999"
	for _, st := range slices.Sorted(maps.Keys(statusHeadings)) {
		for _, refunded := range []int64{0, 500} {
			o := sample
			o.Status = st
			if st == order.Shipped || st == order.Delivered {
				o.TrackingNumber = &tracking
			}
			if _, err := t.OrderStatusMessage("ada@example.com", o, order.StatusChange{OrderID: o.ID, Sequence: 2, Status: st, RefundedAmount: refunded}); err != nil {
				return err
			}
			shipments := []Shipment{{Carrier: "UPS", TrackingNumber: tracking, TrackingURL: "https://track.example.com/1Z999"}, {TrackingNumber: "2"}}
			if _, err := t.OrderStatusMessageWith("ada@example.com", o, order.StatusChange{OrderID: o.ID, Sequence: 2, Status: st, RefundedAmount: refunded}, shipments); err != nil {
				return err
			}
		}
	}
	return nil
}

// render executes the subject, text and HTML templates of email `base` (order_placed…) with
// data, whose Subject field it sets to the rendered subject first.
func (t *Templates) render(to, base string, data any, setSubject func(string)) (Message, error) {
	var subject, text, html bytes.Buffer
	fail := func(name string, err error) (Message, error) {
		return Message{}, fmt.Errorf("render %s: %w", t.origin[name], err)
	}
	if err := t.text.ExecuteTemplate(&subject, base+".subject.tmpl", data); err != nil {
		return fail(base+".subject.tmpl", err)
	}
	subj := strings.Join(strings.Fields(subject.String()), " ") // one line, whatever the template's spacing
	if subj == "" {
		return fail(base+".subject.tmpl", fmt.Errorf("the subject is empty: %w", ErrPermanent))
	}
	setSubject(subj)
	if err := t.text.ExecuteTemplate(&text, base+".txt.tmpl", data); err != nil {
		return fail(base+".txt.tmpl", err)
	}
	if err := t.html.ExecuteTemplate(&html, base+".html.tmpl", data); err != nil {
		return fail(base+".html.tmpl", err)
	}
	return Message{To: to, Subject: subj, Text: text.String(), HTML: html.String()}, nil
}

// orderPlacedData is what the "order placed" templates show; amounts are formatted already.
type orderPlacedData struct {
	Subject string
	Number  int64
	Lines   []lineData
	Total   string
	Address []string
}

type lineData struct {
	Name                 string
	SKU                  string // shown to vendors
	Quantity             int
	UnitPrice, LineTotal string
}

// OrderPlacedSubject is the subject of an order's confirmation.
func OrderPlacedSubject(orderID int64) string {
	return fmt.Sprintf("Your shopgraph order #%d", orderID)
}

// OrderPlacedMessage renders order o's confirmation to `to` with the embedded templates.
func OrderPlacedMessage(to string, o order.Order, lines []order.Line) (Message, error) {
	return defaultTemplates.OrderPlacedMessage(to, o, lines)
}

// OrderPlacedMessage renders order o's confirmation to `to`.
func (t *Templates) OrderPlacedMessage(to string, o order.Order, lines []order.Line) (Message, error) {
	data := orderPlacedData{Number: o.ID, Total: FormatMoney(o.Total), Address: addressLines(o.ShippingAddress)}
	for _, l := range lines {
		name := l.ProductName
		if l.VariantName != "" {
			name += " (" + l.VariantName + ")"
		}
		data.Lines = append(data.Lines, lineData{Name: name, Quantity: l.Quantity,
			UnitPrice: FormatMoney(l.UnitPrice), LineTotal: FormatMoney(l.LineTotal)})
	}
	return t.render(to, "order_placed", &data, func(s string) { data.Subject = s })
}

// addressLines is a shipping address as the lines of a label, empty parts left out.
func addressLines(a order.Address) []string {
	var out []string
	add := func(parts ...string) {
		var kept []string
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				kept = append(kept, p)
			}
		}
		if len(kept) > 0 {
			out = append(out, strings.Join(kept, " "))
		}
	}
	add(a.Name)
	add(a.Line1)
	add(a.Line2)
	add(a.PostalCode, a.City)
	add(a.Region)
	add(a.Country)
	add(a.Phone)
	return out
}

// orderStatusData is what the templates of an order's move show.
type orderStatusData struct {
	Subject, Heading string
	SubjectEnding    string // "has shipped"…
	Status           string
	Number           int64
	Total            string
	Tracking         string
	Refunded         string // empty when the amount is unknown
	// Shipments are the order's fulfilments (carrier and tracking link), for SHIPPED; none
	// when the order was shipped without any.
	Shipments []Shipment
}

// Shipment is one fulfilment of an order as the shipped email shows it.
type Shipment struct {
	Carrier, TrackingNumber, TrackingURL string
}

// statusHeadings are each emailed move's subject ending and heading.
var statusHeadings = map[order.Status][2]string{
	order.Paid:              {"payment received", "We have received your payment"},
	order.Shipped:           {"has shipped", "Your order has shipped"},
	order.Delivered:         {"was delivered", "Your order was delivered"},
	order.Cancelled:         {"was cancelled", "Your order was cancelled"},
	order.Refunded:          {"refunded", "Your payment was refunded"},
	order.PartiallyRefunded: {"partly refunded", "Part of your payment was refunded"},
}

// OrderStatusSubject is the subject of the email of an order's move to status.
func OrderStatusSubject(orderID int64, status order.Status) string {
	return fmt.Sprintf("Your shopgraph order #%d %s", orderID, statusHeadings[status][0])
}

// OrderStatusMessage renders the email, to `to`, of order o's move c with the embedded
// templates.
func OrderStatusMessage(to string, o order.Order, c order.StatusChange) (Message, error) {
	return defaultTemplates.OrderStatusMessage(to, o, c)
}

// OrderStatusMessage renders the email, to `to`, of order o's move c.
func (t *Templates) OrderStatusMessage(to string, o order.Order, c order.StatusChange) (Message, error) {
	return t.OrderStatusMessageWith(to, o, c, nil)
}

// OrderStatusMessageWith is OrderStatusMessage with the order's shipments (its fulfilments'
// carriers and tracking links), which the SHIPPED email lists.
func (t *Templates) OrderStatusMessageWith(to string, o order.Order, c order.StatusChange, shipments []Shipment) (Message, error) {
	h, ok := statusHeadings[c.Status]
	if !ok {
		return Message{}, fmt.Errorf("no email for an order moved to %s: %w", c.Status, ErrPermanent)
	}
	data := orderStatusData{SubjectEnding: h[0], Heading: h[1], Status: string(c.Status),
		Number: o.ID, Total: FormatMoney(o.Total)}
	if o.TrackingNumber != nil {
		data.Tracking = *o.TrackingNumber
	}
	data.Shipments = shipments
	if c.RefundedAmount > 0 {
		data.Refunded = FormatMoney(money.Money{Amount: c.RefundedAmount, Currency: o.Total.Currency})
	}
	return t.render(to, "order_status", &data, func(s string) { data.Subject = s })
}
