package product

import (
	"fmt"
	"io"
	"strconv"
)

// MarshalGQL writes the status as a GraphQL enum value.
func (s Status) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Status) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch Status(str) {
	case StatusActive, StatusArchived:
		*s = Status(str)
		return nil
	}
	return fmt.Errorf("%q is not a valid ProductStatus", str)
}

// MarshalGQL writes the stock status as a GraphQL enum value.
func (s StockStatus) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *StockStatus) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch StockStatus(str) {
	case InStock, LowStock, OutOfStock:
		*s = StockStatus(str)
		return nil
	}
	return fmt.Errorf("%q is not a valid StockStatus", str)
}

// MarshalGQL writes the sort as a GraphQL enum value.
func (s Sort) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Sort) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch Sort(str) {
	case SortNewest, SortPriceAsc, SortPriceDesc, SortName, SortRelevance:
		*s = Sort(str)
		return nil
	}
	return fmt.Errorf("%q is not a valid ProductSort", str)
}
