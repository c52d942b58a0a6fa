package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/order"
)

// templateFS holds the default templates, built into the binary.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

var (
	textTemplates = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/*.txt.tmpl"))
	htmlTemplates = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/*.html.tmpl"))
)

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
	Quantity             int
	UnitPrice, LineTotal string
}

// OrderPlacedSubject is the subject of an order's confirmation.
func OrderPlacedSubject(orderID int64) string {
	return fmt.Sprintf("Your shopgraph order #%d", orderID)
}

// OrderPlacedMessage renders order o's confirmation to `to`.
func OrderPlacedMessage(to string, o order.Order, lines []order.Line) (Message, error) {
	data := orderPlacedData{Subject: OrderPlacedSubject(o.ID), Number: o.ID, Total: FormatMoney(o.Total), Address: addressLines(o.ShippingAddress)}
	for _, l := range lines {
		name := l.ProductName
		if l.VariantName != "" {
			name += " (" + l.VariantName + ")"
		}
		data.Lines = append(data.Lines, lineData{Name: name, Quantity: l.Quantity,
			UnitPrice: FormatMoney(l.UnitPrice), LineTotal: FormatMoney(l.LineTotal)})
	}
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, "order_placed.txt.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("render order placed email (text): %w", err)
	}
	if err := htmlTemplates.ExecuteTemplate(&html, "order_placed.html.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("render order placed email (html): %w", err)
	}
	return Message{To: to, Subject: data.Subject, Text: text.String(), HTML: html.String()}, nil
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
	Status           string
	Number           int64
	Total            string
	Tracking         string
	Refunded         string // empty when the amount is unknown
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

// OrderStatusMessage renders the email, to `to`, of order o's move c.
func OrderStatusMessage(to string, o order.Order, c order.StatusChange) (Message, error) {
	h, ok := statusHeadings[c.Status]
	if !ok {
		return Message{}, fmt.Errorf("no email for an order moved to %s: %w", c.Status, ErrPermanent)
	}
	data := orderStatusData{Subject: OrderStatusSubject(o.ID, c.Status), Heading: h[1], Status: string(c.Status),
		Number: o.ID, Total: FormatMoney(o.Total)}
	if o.TrackingNumber != nil {
		data.Tracking = *o.TrackingNumber
	}
	if c.RefundedAmount > 0 {
		data.Refunded = FormatMoney(money.Money{Amount: c.RefundedAmount, Currency: o.Total.Currency})
	}
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, "order_status.txt.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("render order status email (text): %w", err)
	}
	if err := htmlTemplates.ExecuteTemplate(&html, "order_status.html.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("render order status email (html): %w", err)
	}
	return Message{To: to, Subject: data.Subject, Text: text.String(), HTML: html.String()}, nil
}
