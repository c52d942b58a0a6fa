package inventory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// Bounds of an inventory import file.
const (
	// MaxImportRows is the most data rows an import may have.
	MaxImportRows = 100_000
	// MaxImportQuantity bounds a row's quantity: the catalog's own bound on stock.
	MaxImportQuantity = catalog.MaxStock
	// MaxReasonLength is the most characters a row's reason may have.
	MaxReasonLength = 200
	// maxSKULength is the column's own bound (migration 00002).
	maxSKULength = 64
	// MaxReportedErrors bounds the userErrors of one refused file: a file of 100,000 bad rows
	// gets its first MaxReportedErrors errors and one more saying how many were left out.
	MaxReportedErrors = 1000
)

// importRow is one data row of an import file.
type importRow struct {
	line     int // of the file; the header is line 1
	sku      string
	quantity int
	reason   string
}

// rowErrors collects the errors of an import file, every one of them, and reports the first
// MaxReportedErrors.
type rowErrors struct {
	list  apperr.List
	count int
}

// add records an error of line (0: the file as a whole) and column ("": the row as a whole).
func (e *rowErrors) add(line int, column string, code apperr.Code, format string, args ...any) {
	e.count++
	if len(e.list) >= MaxReportedErrors {
		return
	}
	field := []string{"input", "file"}
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		field = append(field, strconv.Itoa(line))
		prefix := "Row " + strconv.Itoa(line)
		if column != "" {
			field = append(field, column)
			prefix += ", " + column
		}
		msg = prefix + ": " + msg
	}
	e.list = append(e.list, apperr.FieldError(code, msg, field...))
}

// err is every error found, or nil.
func (e *rowErrors) err() error {
	if e.count > len(e.list) {
		e.list = append(e.list, apperr.FieldError(apperr.Invalid,
			fmt.Sprintf("%d more errors are not listed; fix the ones above and upload again.", e.count-len(e.list)), "input", "file"))
	}
	return e.list.Err()
}

// parseImport reads an import file: a header of sku,quantity[,reason], then at most
// MaxImportRows rows. It checks each row on its own (columns, quantity, reason, SKU shape,
// duplicates) and records every problem in errs; SKUs are resolved by the caller.
func parseImport(r io.Reader, errs *rowErrors) []importRow {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, per row, so that every bad row is reported
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		errs.add(0, "", apperr.Invalid, "The file is empty; it needs a header (sku,quantity[,reason]) and at least one row.")
		return nil
	}
	if err != nil {
		errs.add(1, "", apperr.Invalid, "The header is not valid CSV: %s.", csvReason(err))
		return nil
	}
	columns := len(header)
	if !validHeader(header) {
		errs.add(1, "", apperr.Invalid, "The header must be sku,quantity or sku,quantity,reason.")
		return nil
	}
	var rows []importRow
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			errs.add(line, "", apperr.Invalid, "Not valid CSV: %s.", csvReason(err))
			if pe == nil {
				break // not a parse error: the reader cannot go on
			}
			continue
		}
		if len(rows)+1 > MaxImportRows {
			errs.add(0, "", apperr.Invalid, "The file has more than %d rows; split it.", MaxImportRows)
			return nil
		}
		row := importRow{line: line}
		ok := true
		if len(rec) != columns {
			errs.add(line, "", apperr.Invalid, "Expected %d columns as in the header, found %d.", columns, len(rec))
			rows = append(rows, importRow{line: line, quantity: -1})
			continue
		}
		row.sku = strings.TrimSpace(rec[0])
		switch {
		case row.sku == "":
			errs.add(line, "sku", apperr.Invalid, "The SKU is empty.")
			ok = false
		case len(row.sku) > maxSKULength:
			errs.add(line, "sku", apperr.Invalid, "The SKU is longer than %d characters.", maxSKULength)
			ok = false
		default:
			if first, dup := seen[row.sku]; dup {
				errs.add(line, "sku", apperr.Duplicate, "SKU %q is also on row %d; give each SKU once.", row.sku, first)
				ok = false
			} else {
				seen[row.sku] = line
			}
		}
		q, err := strconv.Atoi(strings.TrimSpace(rec[1]))
		switch {
		case err != nil:
			errs.add(line, "quantity", apperr.Invalid, "The quantity must be a whole number, not %q.", truncate(rec[1], 20))
			ok = false
		case q < 0 || q > MaxImportQuantity:
			errs.add(line, "quantity", apperr.Invalid, "The quantity must be between 0 and %d.", MaxImportQuantity)
			ok = false
		}
		row.quantity = q
		if columns == 3 {
			row.reason = strings.TrimSpace(rec[2])
			if !utf8.ValidString(row.reason) {
				errs.add(line, "reason", apperr.Invalid, "The reason is not valid UTF-8 text.")
				ok = false
			} else if utf8.RuneCountInString(row.reason) > MaxReasonLength {
				errs.add(line, "reason", apperr.Invalid, "The reason is longer than %d characters.", MaxReasonLength)
				ok = false
			}
		}
		if !ok {
			row.quantity = -1 // marks the row as bad; the SKU is still resolved when it is well-formed
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 && errs.count == 0 {
		errs.add(0, "", apperr.Invalid, "The file has a header but no rows.")
	}
	return rows
}

// validHeader: sku,quantity[,reason], in any case, a UTF-8 byte order mark allowed.
func validHeader(h []string) bool {
	want := []string{"sku", "quantity", "reason"}
	if len(h) < 2 || len(h) > 3 {
		return false
	}
	for i, name := range h {
		name = strings.TrimSpace(string(bytes.TrimPrefix([]byte(name), []byte("\uFEFF"))))
		if !strings.EqualFold(name, want[i]) {
			return false
		}
	}
	return true
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return "the file could not be read"
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
