package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

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
